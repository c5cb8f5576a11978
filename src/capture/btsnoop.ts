/**
 * btsnoop (RFC 1761 style, as written by Android and by BlueZ hcidump/btmon).
 * Header: "btsnoop\0", version u32 BE (1), datalink u32 BE. Records, all big-endian:
 * original length, included length, flags, cumulative drops, timestamp (i64, microseconds since
 * midnight 1 Jan of year 0). Records are framed by the *included* length (btmon uses the original
 * length and loses sync on truncated records).
 */
import { framingH4, framingMonitor, type LinkFraming } from './link.js';
import { Carry, MAX_BATCH } from './source.js';
import { FILTERED_ACL_MAX, FILTERED_LOG_MESSAGE, type ReadState } from './state.js';
import { HciPacketType, type HciRecord } from './types.js';

export const BTSNOOP_MAGIC = Buffer.from('btsnoop\0', 'latin1');
export const BTSNOOP_HEADER_LENGTH = 16;
const RECORD_HEADER_LENGTH = 24;
/** Larger than any HCI packet (an ACL/ISO packet is at most 4 + 65535 bytes); anything above is corrupt. */
const MAX_RECORD = 0x10000 + 16;

/** Wireshark's KUnixTimeBase (wiretap/btsnoop.c): microseconds from year 0 to 1970, split hi/lo to stay exact in doubles. */
const EPOCH_HI = 0x00dcddb3;
const EPOCH_LO = 0x0f2f8000;

export function btsnoopTimeUs(hi: number, lo: number): number {
  return (hi - EPOCH_HI) * 0x1_0000_0000 + (lo - EPOCH_LO);
}

export interface BtsnoopHeader {
  version: number;
  datalink: number;
}

export function parseBtsnoopHeader(head: Buffer): BtsnoopHeader | undefined {
  if (head.length < BTSNOOP_HEADER_LENGTH || !head.subarray(0, 8).equals(BTSNOOP_MAGIC)) return undefined;
  return { version: head.readUInt32BE(8), datalink: head.readUInt32BE(12) };
}

/**
 * The framing of each record, by flags (and, for H4, the packet-type byte): shared constants rather
 * than an object per record. Un-encapsulated HCI (1001): bit 1 = command/event, bit 0 = received;
 * data packets can't be told from SCO. H4 (1002): bit 0 = received.
 */
const FRAMING_1001: LinkFraming[] = [0, 1, 2, 3].map((flags) => {
  const received = (flags & 1) === 1;
  const type = flags & 2 ? (received ? HciPacketType.Event : HciPacketType.Command) : HciPacketType.AclData;
  return { packetType: type, direction: received ? 'controller-to-host' : 'host-to-controller', start: 0 };
});
/** At 2 * packet-type byte + received, for the bytes 0-5 (0: not a packet type, like any byte above 5 and an empty record). */
const FRAMING_H4: LinkFraming[] = Array.from({ length: 12 }, (_, i) => framingH4(Uint8Array.of(i >> 1), i & 1 ? 'controller-to-host' : 'host-to-controller'));

export async function* btsnoopRecords(chunks: AsyncIterable<Buffer>, header: BtsnoopHeader, state: ReadState): AsyncGenerator<HciRecord[]> {
  const parser = new BtsnoopParser(header.datalink, state);
  for await (const chunk of chunks) {
    parser.push(chunk);
    for (let batch = parser.next(); batch !== undefined; batch = parser.next()) yield batch;
    if (parser.stopped) return;
    state.progress(parser.carry.offset);
  }
  state.endOfInput(parser.carry.offset, parser.carry.available, parser.frame + 1, 'record');
}

/**
 * The records of the chunks pushed, a batch at a time. The loop is a plain method rather than the
 * generator's own: TurboFan took about 20 ms to compile the generator with the loop and its yields
 * inside (the largest compile of `vgatt att`), about 7 ms for this method.
 */
class BtsnoopParser {
  readonly carry = new Carry(BTSNOOP_HEADER_LENGTH);
  frame = 0;
  /** A corrupt record ended reading. */
  stopped = false;
  private drops = 0;
  private dropWarnings = 0;
  private filteredWarned = false;
  // Plain Uint8Array views, made by the constructor from the chunk's buffer read once per chunk: Buffer#subarray
  // builds a FastBuffer, Uint8Array#subarray looks up a species constructor first, and #buffer is a
  // call into C++ (about 280 instructions a view against 450 for subarray).
  private bytes: Uint8Array = new Uint8Array(0);
  private ab: ArrayBufferLike = this.bytes.buffer;
  private abOffset = 0;

  constructor(
    private readonly datalink: number,
    private readonly state: ReadState,
  ) {}

  push(chunk: Buffer): void {
    const carry = this.carry;
    carry.push(chunk);
    const buf = carry.buf;
    this.ab = buf.buffer;
    this.abOffset = buf.byteOffset;
    this.bytes = new Uint8Array(this.ab, this.abOffset, buf.length);
  }

  /** Up to MAX_BATCH records; undefined when the chunk holds no more whole record or reading stopped. */
  next(): HciRecord[] | undefined {
    if (this.stopped) return undefined;
    const { carry, state, bytes, ab, abOffset, datalink } = this;
    const length = bytes.length;
    let p = carry.pos;
    let frame = this.frame;
    const batch: HciRecord[] = [];
    while (length - p >= RECORD_HEADER_LENGTH && batch.length < MAX_BATCH) {
      const orig = u32(bytes, p);
      const incl = u32(bytes, p + 4);
      if (incl > MAX_RECORD) {
        carry.pos = p;
        this.frame = frame;
        this.stopped = true;
        state.warn({ code: 'bad-record', message: `corrupt record at byte offset ${carry.offset} (frame ${frame + 1}): included length ${incl} is not a plausible HCI packet; stopped reading there`, fileOffset: carry.offset, frame: frame + 1 });
        state.finish(carry.offset);
        return batch.length ? batch : undefined;
      }
      if (length - p < RECORD_HEADER_LENGTH + incl) break;
      const flags = u32(bytes, p + 8);
      const cumDrops = u32(bytes, p + 12);
      const timeUs = btsnoopTimeUs(u32(bytes, p + 16), u32(bytes, p + 20));
      const fileOffset = carry.base + p;
      const bodyStart = p + RECORD_HEADER_LENGTH;
      p = bodyStart + incl;
      frame++;
      let f: LinkFraming;
      if (datalink === 2001) f = framingMonitor(flags & 0xffff, flags >>> 16, 0);
      else if (datalink === 1001) f = FRAMING_1001[flags & 3]!;
      else {
        const type = incl > 0 ? bytes[bodyStart]! : 0;
        f = FRAMING_H4[(type <= 5 ? type << 1 : 0) | (flags & 1)]!;
      }
      const start = Math.min(f.start, incl);
      const truncated = incl < orig;
      const rec: HciRecord = {
        frame,
        fileOffset,
        timeUs,
        packetType: f.packetType,
        direction: f.direction,
        data: new Uint8Array(ab, abOffset + bodyStart + start, incl - start), // chunks are never reused, so a view is safe
        dataOffset: fileOffset + RECORD_HEADER_LENGTH + start,
        originalLength: Math.max(0, orig - f.start),
        truncated,
        adapter: f.adapter ?? 0,
      };
      if (f.monitorOpcode !== undefined) rec.monitorOpcode = f.monitorOpcode;
      if (cumDrops > this.drops) this.dropped(cumDrops, frame, fileOffset);
      if (truncated && !this.filteredWarned && f.packetType === HciPacketType.AclData && incl <= FILTERED_ACL_MAX) {
        this.filteredWarned = true;
        state.warn({ code: 'filtered-log', message: FILTERED_LOG_MESSAGE, fileOffset, frame });
      }
      state.check(rec, carry.base + p);
      batch.push(rec);
    }
    carry.pos = p;
    this.frame = frame;
    return batch.length ? batch : undefined;
  }

  private dropped(cumDrops: number, frame: number, fileOffset: number): void {
    const state = this.state;
    if (this.dropWarnings < 5) state.warn({ code: 'dropped-packets', message: `the capturing tool dropped ${cumDrops - this.drops} packet(s) before frame ${frame} (byte offset ${fileOffset})`, fileOffset, frame });
    else if (this.dropWarnings === 5) state.warn({ code: 'dropped-packets', message: `more packet drops after frame ${frame}; not reported one by one`, fileOffset, frame });
    this.dropWarnings++;
    this.drops = cumDrops;
  }
}

/** A big-endian u32 (byte math: Buffer#readUInt32BE is a call with its own checks, four per record). */
function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}
