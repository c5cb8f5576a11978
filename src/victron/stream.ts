/**
 * Transfer reassembly (protocol.md, "Transfers span both data characteristics"): one buffer per
 * stream (connection + direction: the caller makes the key), fed with the pieces written/notified
 * on Data and LastData.
 *
 * - Messages are emitted as soon as their last byte arrives (not at LastData).
 * - A 0xff where a message should start is padding (a record of its own, skipped).
 * - Bytes that do not frame (malformed CBOR, unknown opcode, parameters of the wrong type) are
 *   emitted as unknown up to the next offset, scanning byte by byte, from which messages (known
 *   opcodes 0x01-0x10, right parameter types) and padding frame cleanly again, so a following
 *   valid message is not lost. When that depends on bytes not yet here, the stream waits for them
 *   (the records keep the frames of their bytes, so their provenance is unchanged).
 * - A LastData piece ends the transfer: bytes still waiting for more then become unknown
 *   ({@link INCOMPLETE_AT_LASTDATA}); a complete message found inside them is kept.
 * - flush()/flushAll() end streams (disconnect, end of capture) the same way, with their reason.
 * - Memory is bounded: a stream buffering more than {@link MAX_PENDING} bytes without a message
 *   emits them as unknown.
 */
import { isKnownOpcode, parseMessage, type VictronMessageBody } from './message.js';

export interface Piece {
  /** The ATT value. */
  bytes: Uint8Array;
  frame: number;
  timeUs: number;
  role: 'data' | 'lastData';
}

/** Where a record's bytes came from: `start`/`end` index the piece's ATT value of frame `frame`. */
export interface PieceRange {
  frame: number;
  start: number;
  end: number;
}

export interface Provenance {
  /** All bytes of the record. */
  bytes: Uint8Array;
  /** Every frame that carried some of the bytes, in order. */
  frames: number[];
  /** The bytes' place in each piece, in order. */
  ranges: PieceRange[];
  /** The frame that carried the last byte. */
  frame: number;
  /** Time of that frame. */
  timeUs: number;
}

export type StreamOutput =
  | ({ kind: 'message'; body: VictronMessageBody; /** @deprecated same object as `body` */ message: VictronMessageBody } & Provenance)
  | ({ kind: 'padding' } & Provenance)
  | ({ kind: 'unknown'; reason: string } & Provenance);

/** @deprecated the former name of {@link StreamOutput}. */
export type StreamRecord = StreamOutput;

/** The reason of the unknown record made of bytes left when a LastData piece ends a transfer. */
export const INCOMPLETE_AT_LASTDATA = 'incomplete transfer at LastData';

interface Segment {
  /** Offset of the piece's first pending byte in the buffer. */
  start: number;
  length: number;
  frame: number;
  timeUs: number;
  /** Offset of that byte in the piece's ATT value. */
  pieceOffset: number;
}

/** A stream that buffers more than this without a message is garbage: shown as unknown and dropped. */
export const MAX_PENDING = 64 * 1024;

class StreamBuffer {
  buf: Uint8Array = new Uint8Array(0);
  segments: Segment[] = [];

  append(p: Piece): void {
    let next: Uint8Array;
    if (this.buf.length === 0) next = p.bytes; // nothing pending: parse the piece in place
    else {
      next = new Uint8Array(this.buf.length + p.bytes.length);
      next.set(this.buf);
      next.set(p.bytes, this.buf.length);
    }
    this.segments.push({ start: this.buf.length, length: p.bytes.length, frame: p.frame, timeUs: p.timeUs, pieceOffset: 0 });
    this.buf = next;
  }

  /** Provenance of the first `end` bytes. */
  provenance(end: number): Provenance {
    const frames: number[] = [];
    const ranges: PieceRange[] = [];
    let last: Segment | undefined;
    for (const s of this.segments) {
      if (s.start >= end) break;
      const b = Math.min(end, s.start + s.length);
      if (b <= s.start) continue;
      if (frames[frames.length - 1] !== s.frame) frames.push(s.frame);
      ranges.push({ frame: s.frame, start: s.pieceOffset, end: s.pieceOffset + (b - s.start) });
      last = s;
    }
    // A view, not a copy: the caller's pieces are never reused.
    return { bytes: this.buf.subarray(0, end), frames, ranges, frame: last?.frame ?? 0, timeUs: last?.timeUs ?? 0 };
  }

  consume(n: number): void {
    this.buf = this.buf.subarray(n);
    let drop = 0;
    for (const s of this.segments) {
      if (s.start + s.length <= n) {
        drop++;
        continue;
      }
      const cut = n > s.start ? n - s.start : 0;
      s.start = s.start + cut - n;
      s.length -= cut;
      s.pieceOffset += cut;
    }
    if (drop) this.segments.splice(0, drop);
    if (this.buf.length === 0) this.buf = new Uint8Array(0); // release the last piece
  }
}

/** Messages in a row that make a resynchronisation point certain enough without reaching the buffer's end. */
const RESYNC_CHAIN = 8;

/**
 * Parses messages (and padding) from `p` on: 'clean' when they run cleanly for
 * {@link RESYNC_CHAIN} messages, or to the end of the buffer; 'pending' when they run cleanly into
 * a message that needs more bytes; 'bad' otherwise (not a known opcode 0x01-0x10, malformed, or
 * the wrong shape). Before the end of the transfer (`final` false), reaching the buffer's end
 * counts as clean only after a message of 3 bytes or more: a lone `01` or padding there says
 * too little, the next piece decides.
 */
function chainFrom(buf: Uint8Array, p: number, final: boolean): 'clean' | 'pending' | 'bad' {
  let q = p;
  let n = 0;
  let strong = false;
  while (q < buf.length) {
    if (buf[q] === 0xff) {
      q++;
      continue;
    }
    if (!isKnownOpcode(buf[q])) return 'bad';
    const r = parseMessage(buf, q);
    if (!r.ok) return r.needMore ? 'pending' : 'bad';
    if (!r.message.shapeOk) return 'bad';
    if (r.end - q >= 3) strong = true;
    q = r.end;
    if (++n >= RESYNC_CHAIN) return 'clean';
  }
  return final || strong ? 'clean' : 'pending';
}

/**
 * Where to resume after bytes at the start of `buf` that do not frame: the first offset from
 * which the rest frames cleanly, scanning byte by byte. When the first candidate runs into a
 * message still waiting for bytes, the choice depends on bytes not here yet: -1 (wait), unless
 * the transfer is over (`final`). The buffer's length when nothing frames.
 */
function resyncPoint(buf: Uint8Array, final: boolean): number {
  for (let p = 1; p < buf.length; p++) {
    const c = chainFrom(buf, p, final);
    if (c === 'clean') return p;
    if (c === 'pending') return final ? p : -1;
  }
  return buf.length;
}

/**
 * Inside a message that the end of its transfer left incomplete: a complete, well-shaped message
 * of at least 3 bytes starts at `p` (a 1- or 2-byte "message" there is far more likely one of the
 * incomplete message's parameters, e.g. the 01 of 05 01 ...), and what follows it frames too.
 */
function completeAt(buf: Uint8Array, p: number): boolean {
  if (!isKnownOpcode(buf[p])) return false;
  const r = parseMessage(buf, p);
  return r.ok && r.message.shapeOk && r.end - p >= 3 && chainFrom(buf, p, true) !== 'bad';
}

export class TransferReassembler {
  private buffers = new Map<string, StreamBuffer>();

  /**
   * Feeds one piece (an ATT value on Data or LastData) of the stream `key` (connection +
   * direction); returns the records it completed, in stream order.
   */
  push(key: string, piece: Piece): StreamOutput[] {
    let sb = this.buffers.get(key);
    if (!sb) {
      sb = new StreamBuffer();
      this.buffers.set(key, sb);
    }
    sb.append(piece);
    const out: StreamOutput[] = [];
    if (piece.role === 'lastData') this.finish(sb, out, INCOMPLETE_AT_LASTDATA);
    else this.drain(sb, out, false);
    if (sb.buf.length > MAX_PENDING) {
      out.push({ kind: 'unknown', reason: `more than ${MAX_PENDING} bytes without a complete message`, ...sb.provenance(sb.buf.length) });
      sb.consume(sb.buf.length);
    }
    if (sb.buf.length === 0) this.buffers.delete(key);
    return out;
  }

  private drain(sb: StreamBuffer, out: StreamOutput[], final: boolean): void {
    while (sb.buf.length > 0) {
      const buf = sb.buf;
      if (buf[0] === 0xff) {
        let n = 1;
        while (n < buf.length && buf[n] === 0xff) n++;
        out.push({ kind: 'padding', ...sb.provenance(n) });
        sb.consume(n);
        continue;
      }
      const r = parseMessage(buf, 0);
      if (r.ok && r.message.shapeOk) {
        const prov = sb.provenance(r.end);
        out.push({ kind: 'message', body: r.message, message: r.message, bytes: prov.bytes, frames: prov.frames, ranges: prov.ranges, frame: prov.frame, timeUs: prov.timeUs });
        sb.consume(r.end);
        continue;
      }
      if (!r.ok && r.needMore) return;
      // Not a message here: show the bytes up to where messages (or padding) frame again.
      const p = resyncPoint(buf, final);
      if (p < 0) return;
      const reason = r.ok ? `${r.message.typeName}: ${r.message.problems.join('; ')}` : !r.needMore ? r.error.replace(/ at offset \d+/, '') : '';
      out.push({ kind: 'unknown', reason, ...sb.provenance(p) });
      sb.consume(p);
    }
  }

  /**
   * The transfer is over: frame what can be, and what still waits for more bytes is incomplete:
   * unknown with `reason`. Any complete message found after the start of an incomplete one is
   * kept (a garbage length must not swallow a neighbour).
   */
  private finish(sb: StreamBuffer, out: StreamOutput[], reason: string): void {
    this.drain(sb, out, true);
    while (sb.buf.length > 0) {
      let p = 1;
      while (p < sb.buf.length && !completeAt(sb.buf, p)) p++;
      out.push({ kind: 'unknown', reason, ...sb.provenance(p) });
      sb.consume(p);
      this.drain(sb, out, true);
    }
  }

  /**
   * Ends one stream (disconnect, a value the capture cut short): what frames is emitted, pending
   * bytes become unknown with `reason`.
   */
  flush(key: string, reason: string): StreamOutput[] {
    const sb = this.buffers.get(key);
    this.buffers.delete(key);
    const out: StreamOutput[] = [];
    if (sb) this.finish(sb, out, reason);
    return out;
  }

  /** Ends every stream (end of capture) as flush() does; each record says its stream's key. */
  flushAll(reason: string): (StreamOutput & { key: string })[] {
    const out: (StreamOutput & { key: string })[] = [];
    for (const key of [...this.buffers.keys()]) for (const r of this.flush(key, reason)) out.push({ ...r, key });
    return out;
  }

  /** Number of bytes waiting in stream `key`. */
  pending(key: string): number {
    return this.buffers.get(key)?.buf.length ?? 0;
  }

  /** Keys of the streams with pending bytes. */
  keys(): string[] {
    return [...this.buffers.keys()];
  }
}
