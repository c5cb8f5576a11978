/**
 * Classic pcap through the `pcap-parser` package (both byte orders). pcap-parser only knows the
 * microsecond magic; for nanosecond files (magic a1b23c4d) we hand it the microsecond magic and
 * read its "microseconds" field as nanoseconds, so times stay exact instead of being mis-scaled.
 */
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { linkFraming, LINK_TYPE_NAMES, SUPPORTED } from './link.js';
import { FILTERED_ACL_MAX, FILTERED_LOG_MESSAGE, type ReadState } from './state.js';
import { CaptureError, HciPacketType, type HciRecord } from './types.js';

const require = createRequire(import.meta.url);
// pcap-parser is CommonJS with no types: declare the little we use.
interface PcapPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
interface PcapParser {
  on(ev: 'packet', f: (p: PcapPacket) => void): void;
  on(ev: 'packetHeader', f: (h: PcapPacket['header']) => void): void;
  on(ev: 'end', f: () => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  errored: boolean;
}
const pcapParser = require('pcap-parser') as { parse(input: Readable): PcapParser };

export const PCAP_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
const MAX_RECORD = 0x40000;

export interface PcapHeader {
  littleEndian: boolean;
  nanoseconds: boolean;
  linkType: number;
  snaplen: number;
}

export function parsePcapHeader(head: Buffer): PcapHeader | undefined {
  if (head.length < 4) return undefined;
  const magic = head.readUInt32BE(0);
  let littleEndian: boolean;
  let nanoseconds: boolean;
  if (magic === 0xa1b2c3d4) [littleEndian, nanoseconds] = [false, false];
  else if (magic === 0xd4c3b2a1) [littleEndian, nanoseconds] = [true, false];
  else if (magic === 0xa1b23c4d) [littleEndian, nanoseconds] = [false, true];
  else if (magic === 0x4d3cb2a1) [littleEndian, nanoseconds] = [true, true];
  else return undefined;
  if (head.length < PCAP_HEADER_LENGTH) throw new CaptureError(`pcap header is cut short: file has ${head.length} of its 24 header bytes (byte offset ${head.length})`, head.length);
  const u32 = (o: number) => (littleEndian ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff; // upper bits carry FCS info in newer pcap
  return { littleEndian, nanoseconds, linkType, snaplen: u32(16) };
}

export function checkPcapLinkType(linkType: number, format: string): void {
  if (!(linkType in LINK_TYPE_NAMES)) throw new CaptureError(`unsupported ${format} link type ${linkType}: not Bluetooth HCI (${SUPPORTED})`);
}

export async function* pcapRecords(chunks: AsyncIterable<Buffer>, header: PcapHeader, state: ReadState, fileSize: () => number): AsyncGenerator<HciRecord[]> {
  let first = true;
  async function* source(): AsyncGenerator<Buffer> {
    for await (const c of chunks) {
      if (first && header.nanoseconds) {
        first = false;
        const copy = Buffer.from(c);
        copy.writeUInt32BE(header.littleEndian ? 0xd4c3b2a1 : 0xa1b2c3d4, 0);
        yield copy;
      } else {
        first = false;
        yield c;
      }
    }
  }
  const stream = Readable.from(source(), { objectMode: false });
  const parser = pcapParser.parse(stream);
  const queue: HciRecord[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let consumed = PCAP_HEADER_LENGTH;
  let frame = 0;
  let filteredWarned = false;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  parser.on('packetHeader', (h) => {
    if (h.capturedLength > MAX_RECORD) {
      // pcap-parser would buffer up to this length; stop here instead.
      parser.errored = true;
      state.warn({ code: 'bad-record', message: `corrupt record at byte offset ${consumed} (frame ${frame + 1}): captured length ${h.capturedLength} is not a plausible packet; stopped reading there`, fileOffset: consumed, frame: frame + 1 });
      stream.destroy();
      ended = true;
      notify();
    }
  });
  parser.on('packet', (p) => {
    frame++;
    const fileOffset = consumed;
    consumed += RECORD_HEADER_LENGTH + p.header.capturedLength;
    const f = linkFraming(header.linkType, p.data);
    const sub = header.nanoseconds ? Math.floor(p.header.timestampMicroseconds / 1000) : p.header.timestampMicroseconds;
    const truncated = p.header.capturedLength < p.header.originalLength;
    const rec: HciRecord = {
      frame,
      fileOffset,
      timeUs: p.header.timestampSeconds * 1_000_000 + sub,
      packetType: f.packetType,
      direction: f.direction,
      data: p.data.subarray(Math.min(f.start, p.data.length)),
      dataOffset: fileOffset + RECORD_HEADER_LENGTH + Math.min(f.start, p.data.length),
      originalLength: Math.max(0, p.header.originalLength - f.start),
      truncated,
      adapter: f.adapter ?? 0,
    };
    if (f.monitorOpcode !== undefined) rec.monitorOpcode = f.monitorOpcode;
    if (truncated && !filteredWarned && f.packetType === HciPacketType.AclData && p.data.length - f.start <= FILTERED_ACL_MAX - 1) {
      filteredWarned = true;
      state.warn({ code: 'filtered-log', message: FILTERED_LOG_MESSAGE, fileOffset, frame });
    }
    state.check(rec, consumed);
    queue.push(rec);
    if (queue.length > 4096) stream.pause();
    notify();
  });
  parser.on('end', () => {
    ended = true;
    notify();
  });
  parser.on('error', (e) => {
    failure = e;
    ended = true;
    notify();
  });
  for (;;) {
    if (queue.length > 0) {
      yield queue.splice(0, queue.length);
      continue;
    }
    if (ended) break;
    state.progress(consumed);
    if (stream.isPaused()) stream.resume();
    await new Promise<void>((r) => (wake = r));
  }
  if (queue.length > 0) yield queue.splice(0, queue.length);
  if (failure) throw new CaptureError(`pcap: ${failure.message}`);
  // A stream input's size is what was read of it, known only at its end.
  const totalBytes = fileSize();
  if (state.complete && consumed < totalBytes) {
    state.warn({ code: 'truncated-file', message: `capture ends inside a record at byte offset ${consumed} (frame ${frame + 1}): ${totalBytes - consumed} byte(s) of an incomplete record ignored`, fileOffset: consumed, frame: frame + 1 });
  }
  state.finish(Math.min(consumed, totalBytes));
}
