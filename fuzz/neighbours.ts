/**
 * The resynchronisation oracle (src/victron/stream.ts, "Resynchronisation rule"): after one byte
 * of a valid message stream is damaged, every message that lies wholly outside the damage zone
 * decodes unchanged, and no message is invented outside it. The zone is the damaged message plus
 * what a message record framed across it holds (a damaged length can make a well-formed message
 * that swallows its neighbour: no decoder can tell, see below).
 */
import { INCOMPLETE_AT_LASTDATA, TransferReassembler, type StreamOutput } from '../src/victron/stream.js';

export interface Span {
  start: number;
  end: number;
}

export interface NeighbourCheck {
  /** Original messages outside the damage that did not come out unchanged. */
  lost: Span[];
  /** Messages emitted from bytes of untouched messages only, at a place no original message has. */
  invented: Span[];
  /** Bytes missing or duplicated (every byte must come out once, in order). */
  bytesMismatch: boolean;
  /** What came out, with stream offsets (for messages about a failure). */
  records: { kind: string; start: number; end: number; hex: string }[];
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Feeds `stream` (with one byte possibly changed) cut at `cuts` (piece lengths, cycled), the last
 * piece on LastData, and checks the outputs against `messages` (spans of the original messages)
 * given the damaged byte's offset `at`.
 */
export function checkNeighbours(original: Uint8Array, messages: Span[], at: number, value: number, cuts: number[]): NeighbourCheck {
  const damaged = original.slice();
  damaged[at] = value;
  const r = new TransferReassembler();
  const out: (StreamOutput & Span)[] = [];
  let pos = 0;
  let i = 0;
  let emitted = 0;
  while (pos < damaged.length) {
    const end = Math.min(damaged.length, pos + Math.max(1, cuts[i % cuts.length]!));
    for (const o of r.push('k', { bytes: damaged.subarray(pos, end), frame: ++i, timeUs: i, role: end === damaged.length ? 'lastData' : 'data' })) {
      out.push({ ...o, start: emitted, end: emitted + o.bytes.length });
      emitted += o.bytes.length;
    }
    pos = end;
  }
  const bytesMismatch = emitted !== damaged.length || !same(Uint8Array.from(out.flatMap((o) => [...o.bytes])), damaged);
  // The damage zone: the damaged message (or padding byte), grown by every message record that
  // overlaps it, and by every original message such a misframed record overlaps (those bytes are
  // ambiguous: 0a | 07 01 03 00 or 0a 07 | 01 | 03 00 both frame). Unknown records never grow it:
  // a message they swallow outside the zone is lost.
  const hit = messages.find((m) => m.start <= at && at < m.end) ?? { start: at, end: at + 1 };
  const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end;
  const isOriginal = (o: Span) => messages.some((m) => m.start === o.start && m.end === o.end);
  const msgs = out.filter((o) => o.kind === 'message');
  const zone = [hit];
  for (let grew = true; grew; ) {
    grew = false;
    for (const o of msgs) {
      if (zone.includes(o) || !zone.some((z) => overlaps(z, o))) continue;
      zone.push(o);
      grew = true;
      if (!isOriginal(o)) for (const m of messages) if (!zone.includes(m) && overlaps(m, o)) zone.push(m);
    }
  }
  // The documented exception: at the end of a transfer, a 1- or 2-byte message inside an incomplete
  // message is taken as one of its parameters (05 01 | end: the 01 is its instance).
  for (const o of out) {
    if (o.kind !== 'unknown' || o.reason !== INCOMPLETE_AT_LASTDATA || !zone.some((z) => overlaps(z, o))) continue;
    for (const m of messages) if (m.end - m.start < 3 && m.start >= o.start && m.end <= o.end) zone.push(m);
  }
  const inZone = (x: Span) => zone.some((z) => overlaps(z, x));
  const lost = messages.filter((m) => !inZone(m) && !msgs.some((o) => o.start === m.start && o.end === m.end));
  const invented = msgs.filter((o) => !inZone(o) && !isOriginal(o)).map((o) => ({ start: o.start, end: o.end }));
  const records = out.map((o) => ({ kind: o.kind, start: o.start, end: o.end, hex: Buffer.from(o.bytes).toString('hex') }));
  return { lost, invented, bytesMismatch, records };
}
