/**
 * pcapng (draft-ietf-opsawg-pcapng): Section Header blocks in either byte order (a file may hold
 * several sections), Interface Description blocks (link type and if_tsresol per interface),
 * Enhanced, Simple and obsolete Packet blocks. Other blocks are skipped by their length.
 * Hand-written: no maintained npm pcapng reader streams with byte offsets for errors.
 */
import { linkFraming, LINK_TYPE_NAMES } from './link.js';
import { Carry, MAX_BATCH } from './source.js';
import { FILTERED_ACL_MAX, FILTERED_LOG_MESSAGE, type ReadState } from './state.js';
import { CaptureError, HciPacketType, type HciRecord } from './types.js';

export const SHB_TYPE = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const MAX_BLOCK = 1 << 24;

interface Interface {
  linkType: number;
  snaplen: number;
  /** Ticks per second of this interface's timestamps. */
  ticksPerSecond: number;
  /** if_tsoffset, seconds. */
  offsetSeconds: number;
}

/** First interface's link type, for CaptureInfo: scans the first blocks of the head buffer. */
export function pcapngFirstLinkType(head: Buffer): number | undefined {
  if (head.length < 12 || head.readUInt32BE(0) !== SHB_TYPE) return undefined;
  const le = head.readUInt32LE(8) === BYTE_ORDER_MAGIC;
  const u32 = (o: number) => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
  let p = 0;
  while (p + 12 <= head.length) {
    const type = u32(p);
    const len = u32(p + 4);
    if (len < 12 || len % 4 !== 0) return undefined;
    if (type === 1 && p + 10 <= head.length) return le ? head.readUInt16LE(p + 8) : head.readUInt16BE(p + 8);
    p += len;
  }
  return undefined;
}

function parseIdb(body: Buffer, le: boolean): Interface {
  const u16 = (o: number) => (le ? body.readUInt16LE(o) : body.readUInt16BE(o));
  const u32 = (o: number) => (le ? body.readUInt32LE(o) : body.readUInt32BE(o));
  const iface: Interface = { linkType: u16(0), snaplen: u32(4), ticksPerSecond: 1_000_000, offsetSeconds: 0 };
  let p = 8;
  while (p + 4 <= body.length) {
    const code = u16(p);
    const len = u16(p + 2);
    if (code === 0 || p + 4 + len > body.length) break;
    if (code === 9 && len >= 1) {
      const r = body[p + 4]!;
      iface.ticksPerSecond = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
    } else if (code === 14 && len >= 8) {
      const hi = u32(p + 4 + (le ? 4 : 0));
      const lo = u32(p + 4 + (le ? 0 : 4));
      iface.offsetSeconds = hi * 0x1_0000_0000 + lo;
    }
    p += 4 + len + ((4 - (len % 4)) % 4);
  }
  return iface;
}

function ticksToUs(hi: number, lo: number, iface: Interface): number {
  const off = iface.offsetSeconds * 1_000_000;
  if (iface.ticksPerSecond === 1_000_000) return hi * 0x1_0000_0000 + lo + off;
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  return Number((ticks * 1_000_000n) / BigInt(iface.ticksPerSecond)) + off;
}

export async function* pcapngRecords(chunks: AsyncIterable<Buffer>, state: ReadState): AsyncGenerator<HciRecord[]> {
  const carry = new Carry(0);
  let le = true;
  let interfaces: Interface[] = [];
  let frame = 0;
  let filteredWarned = false;
  const unsupportedWarned = new Set<number>();
  let sawSection = false;
  for await (const chunk of chunks) {
    carry.push(chunk);
    const buf = carry.buf;
    let p = carry.pos;
    let batch: HciRecord[] = [];
    while (buf.length - p >= 12) {
      const blockOffset = carry.base + p;
      let type = le ? buf.readUInt32LE(p) : buf.readUInt32BE(p);
      if (buf.readUInt32BE(p) === SHB_TYPE) {
        // A new section may switch byte order: read it from the byte-order magic.
        const bom = buf.readUInt32LE(p + 8);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (buf.readUInt32BE(p + 8) === BYTE_ORDER_MAGIC) le = false;
        else {
          carry.pos = p;
          state.warn({ code: 'bad-record', message: `corrupt section header at byte offset ${blockOffset}: bad byte-order magic; stopped reading there`, fileOffset: blockOffset });
          state.finish(blockOffset);
          if (batch.length) yield batch;
          return;
        }
        type = SHB_TYPE;
      }
      const len = le ? buf.readUInt32LE(p + 4) : buf.readUInt32BE(p + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
        carry.pos = p;
        state.warn({ code: 'bad-record', message: `corrupt block at byte offset ${blockOffset} (after frame ${frame}): block length ${len} is invalid; stopped reading there`, fileOffset: blockOffset, frame: frame + 1 });
        state.finish(blockOffset);
        if (batch.length) yield batch;
        return;
      }
      if (buf.length - p < len) break;
      const body = buf.subarray(p + 8, p + len - 4);
      const u32 = (o: number) => (le ? body.readUInt32LE(o) : body.readUInt32BE(o));
      p += len;
      if (type === SHB_TYPE) {
        sawSection = true;
        interfaces = []; // interface ids are per section
        continue;
      }
      if (!sawSection) throw new CaptureError(`pcapng: no section header before the block at byte offset ${blockOffset}`, blockOffset);
      if (type === 1) {
        if (body.length < 8) {
          state.warn({ code: 'bad-record', message: `interface description block too short at byte offset ${blockOffset}`, fileOffset: blockOffset });
          continue;
        }
        const iface = parseIdb(body, le);
        interfaces.push(iface);
        if (!(iface.linkType in LINK_TYPE_NAMES) && !unsupportedWarned.has(iface.linkType)) {
          unsupportedWarned.add(iface.linkType);
          state.warn({ code: 'unsupported-link-type', message: `interface ${interfaces.length - 1} has link type ${iface.linkType}, not Bluetooth HCI: its packets are counted as frames but not decoded`, fileOffset: blockOffset });
        }
        continue;
      }
      let ifaceId: number;
      let timeUs: number;
      let capLen: number;
      let origLen: number;
      let dataStart: number;
      if (type === 6 || type === 2) {
        // Enhanced Packet Block, or the obsolete Packet Block (u16 interface id, u16 drops).
        if (body.length < 20) {
          state.warn({ code: 'bad-record', message: `packet block too short at byte offset ${blockOffset}`, fileOffset: blockOffset });
          continue;
        }
        ifaceId = type === 6 ? u32(0) : le ? body.readUInt16LE(0) : body.readUInt16BE(0);
        const iface = interfaces[ifaceId];
        capLen = u32(12);
        origLen = u32(16);
        dataStart = 20;
        timeUs = iface ? ticksToUs(u32(4), u32(8), iface) : 0;
      } else if (type === 3) {
        // Simple Packet Block: no timestamp, interface 0, captured length implied by the block length.
        ifaceId = 0;
        origLen = u32(0);
        dataStart = 4;
        const snap = interfaces[0]?.snaplen || Infinity;
        capLen = Math.min(origLen, snap, body.length - 4);
        timeUs = 0;
      } else if (type === 0x00000bad || type === 0x40000bad) {
        // Custom blocks: Wireshark shows them as frames of their own, so they take a frame number.
        frame++;
        batch.push({ frame, fileOffset: blockOffset, timeUs: 0, packetType: undefined, direction: 'unknown', data: body, dataOffset: blockOffset + 8, originalLength: body.length, truncated: false, adapter: 0 });
        continue;
      } else {
        continue; // name resolution, statistics, custom, decryption secrets...: not packets
      }
      frame++;
      const iface = interfaces[ifaceId];
      if (dataStart + capLen > body.length) {
        state.warn({ code: 'bad-record', message: `frame ${frame} at byte offset ${blockOffset}: captured length ${capLen} exceeds its block; data cut to the block`, fileOffset: blockOffset, frame });
        capLen = Math.max(0, body.length - dataStart);
      }
      const data = body.subarray(dataStart, dataStart + capLen);
      if (!iface || !(iface.linkType in LINK_TYPE_NAMES)) {
        if (!iface) state.warn({ code: 'bad-record', message: `frame ${frame} at byte offset ${blockOffset} names interface ${ifaceId}, which is not described`, fileOffset: blockOffset, frame });
        const other: HciRecord = { frame, fileOffset: blockOffset, timeUs, packetType: undefined, direction: 'unknown', data, dataOffset: blockOffset + 8 + dataStart, originalLength: origLen, truncated: capLen < origLen, adapter: ifaceId };
        state.check(other, carry.base + p);
        batch.push(other);
        continue;
      }
      const f = linkFraming(iface.linkType, data);
      const truncated = capLen < origLen;
      const rec: HciRecord = {
        frame,
        fileOffset: blockOffset,
        timeUs,
        packetType: f.packetType,
        direction: f.direction,
        data: data.subarray(Math.min(f.start, data.length)),
        dataOffset: blockOffset + 8 + dataStart + Math.min(f.start, data.length),
        originalLength: Math.max(0, origLen - f.start),
        truncated,
        adapter: f.adapter ?? ifaceId,
      };
      if (f.monitorOpcode !== undefined) rec.monitorOpcode = f.monitorOpcode;
      if (truncated && !filteredWarned && f.packetType === HciPacketType.AclData && data.length - f.start <= FILTERED_ACL_MAX - 1) {
        filteredWarned = true;
        state.warn({ code: 'filtered-log', message: FILTERED_LOG_MESSAGE, fileOffset: blockOffset, frame });
      }
      state.check(rec, carry.base + p);
      batch.push(rec);
      if (batch.length >= MAX_BATCH) {
        carry.pos = p;
        yield batch;
        batch = [];
      }
    }
    carry.pos = p;
    if (batch.length) yield batch;
    state.progress(carry.offset);
  }
  state.endOfInput(carry.offset, carry.available, frame + 1, 'block');
}
