/**
 * btsnooz: the `BTSNOOP_LOG_SUMMARY` section of an Android bug report's text dump (Android 8-10,
 * and later when the full snoop log is off). Format, as AOSP's `tools/scripts/btsnooz.py` and
 * `btif_debug_btsnoop.h` define it:
 *
 *   --- BEGIN:BTSNOOP_LOG_SUMMARY (N bytes in) ---
 *   base64 lines { preamble: version u8 (1 or 2), last_timestamp u64 LE; zlib { records } }
 *   --- END:BTSNOOP_LOG_SUMMARY ---
 *
 * Records (little-endian): v1 = length u16, delta_time u32, type u8, then length-1 bytes;
 * v2 = length u16, packet_length u16, delta_time u32, type u8, then length-1 bytes. Both lengths
 * count the type byte; v2 keeps only the start of ACL packets (length < packet_length). The
 * fields are named "_ms" in AOSP but hold microseconds (the stack fills them from timestamp_us):
 * the preamble has the time of the *last* packet, each record the delay since the one before,
 * so the first packet's time is known only once every record has been read.
 */
import { inflateCapped } from '../util/inflate.js';
import { HciPacketType, type HciDirection, type HciRecord } from './types.js';

export const SNOOZ_BEGIN = '--- BEGIN:BTSNOOP_LOG_SUMMARY';
export const SNOOZ_END = '--- END:BTSNOOP_LOG_SUMMARY';

/** The ring buffer on the phone is 128-256 KiB; anything far beyond is not a summary (bounds memory). */
export const MAX_SNOOZ_BASE64 = 64 << 20;
export const MAX_SNOOZ_INFLATED = 64 << 20;

const PREAMBLE = 9;

/** btsnooz record types (the stack's internal packet types, high byte): direction and H4 type. */
const SNOOZ_TYPES: Record<number, [HciPacketType, HciDirection]> = {
  0x10: [HciPacketType.Event, 'controller-to-host'],
  0x11: [HciPacketType.AclData, 'controller-to-host'],
  0x12: [HciPacketType.ScoData, 'controller-to-host'],
  0x17: [HciPacketType.IsoData, 'controller-to-host'],
  0x20: [HciPacketType.Command, 'host-to-controller'],
  0x21: [HciPacketType.AclData, 'host-to-controller'],
  0x22: [HciPacketType.ScoData, 'host-to-controller'],
  0x2d: [HciPacketType.IsoData, 'host-to-controller'],
};

/** A btsnooz section found in a text stream: its base64 (whitespace removed) and where it was. */
export interface SnoozSection {
  base64: string;
  /** Byte offset of the BEGIN line in the text. */
  offset: number;
  /** 1-based line number of the BEGIN line. */
  line: number;
  /** A problem that cut the section short (bad base64 line, missing END marker), with its offset. */
  problem?: { message: string; offset: number };
}

const B64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Scans text chunks for the first BTSNOOP_LOG_SUMMARY section, keeping only the current line and
 * the section's base64 in memory. Returns undefined when the text has none.
 */
export async function findSnoozSection(chunks: AsyncIterable<Buffer>): Promise<SnoozSection | undefined> {
  let carry = '';
  let carryOffset = 0;
  let lineNo = 0;
  let section: SnoozSection | undefined;
  const parts: string[] = [];
  let size = 0;
  const onLine = (line: string, offset: number): 'more' | 'done' => {
    lineNo++;
    if (!section) {
      if (line.includes(SNOOZ_BEGIN)) section = { base64: '', offset, line: lineNo };
      return 'more';
    }
    if (line.includes(SNOOZ_END)) return 'done';
    const t = line.trim();
    if (!B64_LINE.test(t)) {
      section.problem = { message: `bad base64 at line ${lineNo} (byte offset ${offset}) of the BTSNOOP_LOG_SUMMARY section: ${JSON.stringify(t.slice(0, 24))}`, offset };
      return 'done';
    }
    size += t.length;
    if (size > MAX_SNOOZ_BASE64) {
      section.problem = { message: `BTSNOOP_LOG_SUMMARY section larger than ${MAX_SNOOZ_BASE64 >> 20} MiB of base64 at byte offset ${offset}: not a btsnooz summary; stopped there`, offset };
      return 'done';
    }
    parts.push(t);
    return 'more';
  };
  let state: 'more' | 'done' = 'more';
  let offset = 0;
  for await (const chunk of chunks) {
    // latin1: one char per byte, so string offsets are byte offsets (base64 and markers are ASCII).
    const text = carry + chunk.toString('latin1');
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      state = onLine(text.slice(start, nl), carryOffset + start);
      start = nl + 1;
      if (state === 'done') break;
    }
    if (state === 'done') break;
    offset = carryOffset + text.length;
    carry = text.slice(start);
    carryOffset += start;
    // A line longer than any base64 line of a summary, outside a section: keep only its tail for the marker.
    if (!section && carry.length > 4096) {
      carryOffset += carry.length - SNOOZ_BEGIN.length;
      carry = carry.slice(-SNOOZ_BEGIN.length);
    }
  }
  if (state === 'more' && carry) state = onLine(carry, carryOffset);
  if (!section) return undefined;
  if (state === 'more' && !section.problem) section.problem = { message: `the BTSNOOP_LOG_SUMMARY section has no END line (text cut short at byte offset ${Math.max(offset, carryOffset + carry.length)})`, offset: Math.max(offset, carryOffset + carry.length) };
  section.base64 = parts.join('');
  return section;
}

export interface SnoozDecoded {
  version: number;
  records: HciRecord[];
  /** Packets whose ACL payload the summary cut (v2: length < packet_length). */
  cut: number;
  /** The first problem: truncated or corrupt deflate data, a record cut short; with its offset. */
  problem?: { message: string; offset: number };
  unknownTypes: number;
}

/**
 * Inflates a btsnooz blob (preamble + zlib) and returns its packets as HCI records with Unix
 * times. Every complete record before damage is kept; `problem` says where it stopped.
 * Throws an Error (one line) when the blob is not btsnooz at all.
 */
export function decodeSnooz(blob: Uint8Array, inflatedCap = MAX_SNOOZ_INFLATED): SnoozDecoded {
  if (blob.length < PREAMBLE) throw new Error(`btsnooz data too short: ${blob.length} byte(s), the preamble alone is ${PREAMBLE}`);
  const version = blob[0]!;
  if (version !== 1 && version !== 2) throw new Error(`unsupported btsnooz version ${version} (AOSP btsnooz.py knows 1 and 2)`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const lastUs = Number(dv.getBigUint64(1, true));
  const z = inflateCapped(blob.subarray(PREAMBLE), inflatedCap);
  const data = z.data;
  const problem = z.problem && {
    message: `btsnooz ${z.problem.kind === 'cut' ? 'data' : 'deflate data'} ${z.problem.message.replace(/compressed byte offset (\d+)/, (_, n) => `byte offset ${PREAMBLE + Number(n)} of the decoded base64`)}`,
    offset: PREAMBLE + z.problem.inputOffset,
  };
  const head = version === 1 ? 7 : 9;
  const out: SnoozDecoded = { version, records: [], cut: 0, unknownTypes: 0 };
  if (problem) out.problem = problem;
  // First pass: the records and the sum of their deltas (the time base is the last packet's).
  const recs: { offset: number; length: number; packetLength: number; delta: number; type: number }[] = [];
  let p = 0;
  let total = 0;
  while (p + head <= data.length) {
    const length = data[p]! | (data[p + 1]! << 8);
    const packetLength = version === 2 ? data[p + 2]! | (data[p + 3]! << 8) : length;
    const delta = (data[p + head - 5]! | (data[p + head - 4]! << 8) | (data[p + head - 3]! << 16)) + data[p + head - 2]! * 0x100_0000;
    const type = data[p + head - 1]!;
    if (length < 1 || p + head + length - 1 > data.length) break;
    recs.push({ offset: p, length, packetLength, delta, type });
    total += delta;
    p += head + length - 1;
  }
  if (p < data.length && !out.problem) out.problem = { message: `btsnooz record at inflated byte offset ${p} (packet ${recs.length + 1}) is cut short: ${data.length - p} byte(s) left`, offset: p };
  let t = lastUs - total;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    t += r.delta;
    const kind = SNOOZ_TYPES[r.type];
    if (!kind) out.unknownTypes++;
    const body = data.subarray(r.offset + head, r.offset + head + r.length - 1);
    const truncated = r.packetLength > r.length;
    if (truncated) out.cut++;
    out.records.push({
      frame: i + 1,
      fileOffset: r.offset,
      timeUs: t,
      packetType: kind?.[0],
      direction: kind?.[1] ?? 'unknown',
      data: body,
      originalLength: Math.max(r.packetLength, r.length) - 1,
      truncated,
      adapter: 0,
    });
  }
  return out;
}
