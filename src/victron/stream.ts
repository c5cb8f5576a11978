/**
 * Transfer reassembly (protocol.md, "Transfers span both data characteristics"): one buffer per
 * stream (connection + direction: the caller makes the key), fed with the pieces written/notified
 * on Data and LastData.
 *
 * - Messages are emitted as soon as their last byte arrives (not at LastData).
 * - A 0xff where a message should start is padding (a record of its own, skipped).
 * - Bytes that do not frame (malformed CBOR, unknown opcode, parameters of the wrong type) are
 *   emitted as unknown up to the next plausible message start, found byte by byte, so a following
 *   valid message is never lost.
 * - A LastData piece ends the transfer: bytes still waiting for more then become unknown.
 * - flush()/flushAll() end streams (disconnect, end of capture): pending bytes become unknown.
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

/**
 * A position where a message could start after bytes that do not frame: a known opcode
 * (0x01-0x10) whose message frames with the right parameter types or needs more bytes, and is
 * followed by the end of the buffer, padding, or another such message. The one message of
 * look-ahead keeps short opcodes inside garbage (a lone `01`) from being taken for messages.
 */
function plausibleStart(buf: Uint8Array, p: number, lookahead = true): boolean {
  if (!isKnownOpcode(buf[p])) return false;
  const r = parseMessage(buf, p);
  if (!r.ok) return r.needMore;
  if (!r.message.shapeOk) return false;
  if (!lookahead || r.end >= buf.length || buf[r.end] === 0xff) return true;
  return plausibleStart(buf, r.end, false);
}

/**
 * A complete, well-shaped message of at least 3 bytes starts at `p` (a 1- or 2-byte "message"
 * inside an incomplete one is far more likely one of its parameters, e.g. the 01 of 05 01 ...).
 */
function completeAt(buf: Uint8Array, p: number): boolean {
  if (!isKnownOpcode(buf[p])) return false;
  const r = parseMessage(buf, p);
  return r.ok && r.message.shapeOk && r.end - p >= 3;
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
    this.drain(sb, out);
    while (piece.role === 'lastData' && sb.buf.length > 0) {
      // The transfer is over: what waits for more bytes is incomplete. Keep any complete message
      // found after its start (a garbage length must not swallow a neighbour); the rest is unknown.
      let p = 1;
      while (p < sb.buf.length && !completeAt(sb.buf, p)) p++;
      out.push({ kind: 'unknown', reason: INCOMPLETE_AT_LASTDATA, ...sb.provenance(p) });
      sb.consume(p);
      this.drain(sb, out);
    }
    if (sb.buf.length > MAX_PENDING) {
      out.push({ kind: 'unknown', reason: `more than ${MAX_PENDING} bytes without a complete message`, ...sb.provenance(sb.buf.length) });
      sb.consume(sb.buf.length);
    }
    if (sb.buf.length === 0) this.buffers.delete(key);
    return out;
  }

  private drain(sb: StreamBuffer, out: StreamOutput[]): void {
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
      // Not a message here: skip to the next plausible start, a padding byte before one, or the
      // end of the buffer, and show the skipped bytes.
      let p = 1;
      while (p < buf.length && !plausibleStart(buf, p) && !(buf[p] === 0xff && (p + 1 === buf.length || plausibleStart(buf, p + 1)))) p++;
      const reason = r.ok ? `${r.message.typeName}: ${r.message.problems.join('; ')}` : !r.needMore ? r.error.replace(/ at offset \d+/, '') : '';
      out.push({ kind: 'unknown', reason, ...sb.provenance(p) });
      sb.consume(p);
    }
  }

  /** Ends one stream (disconnect, a value the capture cut short): pending bytes become one unknown record. */
  flush(key: string, reason: string): StreamOutput[] {
    const sb = this.buffers.get(key);
    this.buffers.delete(key);
    if (!sb || sb.buf.length === 0) return [];
    return [{ kind: 'unknown', reason, ...sb.provenance(sb.buf.length) }];
  }

  /** Ends every stream (end of capture): one unknown record per stream with pending bytes, with its key. */
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
