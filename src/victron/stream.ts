/**
 * Transfer reassembly (protocol.md, "Transfers span both data characteristics"): one buffer per
 * connection and direction, fed with the pieces written/notified on Data and LastData. Messages are
 * emitted as soon as their last byte arrives; a LastData piece ends the transfer, and bytes left
 * then become an `unknown` record. A 0xff where a message should start is padding. Bytes that do
 * not frame are skipped up to the next plausible message start, so a neighbour is never lost.
 */
import { OPCODES, parseMessage, type VictronMessage } from './message.js';

export interface Piece {
  bytes: Uint8Array;
  frame: number;
  timeUs: number;
  role: 'data' | 'lastData';
}

/** Where a record's bytes came from: `start`/`end` index the piece's ATT value. */
export interface PieceRange {
  frame: number;
  start: number;
  end: number;
}

interface Provenance {
  /** All bytes of the record. */
  bytes: Uint8Array;
  frames: number[];
  ranges: PieceRange[];
  /** The frame that carried the last byte. */
  frame: number;
  timeUs: number;
}

export type StreamRecord =
  | ({ kind: 'message'; message: VictronMessage } & Provenance)
  | ({ kind: 'padding' } & Provenance)
  | ({ kind: 'unknown'; reason: string } & Provenance);

interface Segment {
  /** Offset of the piece's first pending byte in the buffer. */
  start: number;
  length: number;
  frame: number;
  timeUs: number;
  /** Offset of that byte in the piece's ATT value. */
  pieceOffset: number;
}

/** A transfer that grows past this without a message is garbage: shown as unknown and dropped. */
const MAX_PENDING = 64 * 1024;

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

  provenance(end: number): Provenance {
    const frames: number[] = [];
    const ranges: PieceRange[] = [];
    let last: Segment | undefined;
    for (const s of this.segments) {
      if (s.start >= end) break;
      const a = 0 > s.start ? 0 : s.start;
      const b = Math.min(end, s.start + s.length);
      if (b <= a) continue;
      if (frames.at(-1) !== s.frame) frames.push(s.frame);
      ranges.push({ frame: s.frame, start: s.pieceOffset + (a - s.start), end: s.pieceOffset + (b - s.start) });
      last = s;
    }
    // A view, not a copy: pieces are views of capture chunks that are never reused.
    return { bytes: this.buf.subarray(0, end), frames, ranges, frame: last?.frame ?? 0, timeUs: last?.timeUs ?? 0 };
  }

  consume(n: number): void {
    this.buf = this.buf.subarray(n);
    let drop = 0;
    for (const s of this.segments) {
      const end = s.start + s.length;
      if (end <= n) {
        drop++;
        continue;
      }
      const cut = n > s.start ? n - s.start : 0;
      s.start = s.start + cut - n;
      s.length -= cut;
      s.pieceOffset += cut;
    }
    if (drop) this.segments.splice(0, drop);
  }
}

/**
 * A position where a message could start after garbage: a known opcode whose message frames
 * cleanly (or needs more bytes), and is followed by the end of the buffer, padding, or another
 * clean message. One message of look-ahead keeps short opcodes (`01`) inside garbage from
 * being taken for messages.
 */
function plausibleStart(buf: Uint8Array, p: number, lookahead = true): boolean {
  if (OPCODES[buf[p]!] === undefined) return false;
  const r = parseMessage(buf, p);
  if (!r.ok) return r.needMore;
  if (r.message.problems.length > 0) return false;
  if (!lookahead || r.end >= buf.length || buf[r.end] === 0xff) return true;
  return plausibleStart(buf, r.end, false);
}

/**
 * A complete, clean message of at least 3 bytes starts at `p` (a 1- or 2-byte "message" inside
 * an incomplete one is far more likely one of its parameters, e.g. the 01 of 05 01 ...).
 */
function completeAt(buf: Uint8Array, p: number): boolean {
  if (buf[p] === 0xff) return false;
  const r = parseMessage(buf, p);
  return r.ok && r.message.problems.length === 0 && r.end - p >= 3;
}

export class TransferReassembler {
  private buffers = new Map<string, StreamBuffer>();

  /** Feeds one piece (an ATT value on Data or LastData) of the stream `key` (connection + direction). */
  push(key: string, piece: Piece): StreamRecord[] {
    let sb = this.buffers.get(key);
    if (!sb) {
      sb = new StreamBuffer();
      this.buffers.set(key, sb);
    }
    sb.append(piece);
    const out: StreamRecord[] = [];
    this.drain(sb, out);
    while (piece.role === 'lastData' && sb.buf.length > 0) {
      // The transfer is over: what waits for more bytes is incomplete. Keep any complete message
      // found after it (a garbage length must not swallow a neighbour), the rest is unknown.
      let p = 1;
      while (p < sb.buf.length && !completeAt(sb.buf, p)) p++;
      out.push({ kind: 'unknown', reason: 'incomplete message when LastData ended the transfer', ...sb.provenance(p) });
      sb.consume(p);
      this.drain(sb, out);
    }
    if (sb.buf.length > MAX_PENDING) {
      out.push({ kind: 'unknown', reason: `more than ${MAX_PENDING} bytes without a complete message`, ...sb.provenance(sb.buf.length) });
      sb.consume(sb.buf.length);
    }
    return out;
  }

  private drain(sb: StreamBuffer, out: StreamRecord[]): void {
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
      if (r.ok && r.message.problems.length === 0) {
        out.push({ kind: 'message', message: r.message, ...sb.provenance(r.end) });
        sb.consume(r.end);
        continue;
      }
      if (!r.ok && r.needMore) return;
      // Not a message here: skip to the next plausible start (or to the end) and show the skipped bytes.
      let p = 1;
      while (p < buf.length && !plausibleStart(buf, p) && !(buf[p] === 0xff && (p + 1 === buf.length || plausibleStart(buf, p + 1)))) p++;
      const reason = r.ok ? `${r.message.typeName}: ${r.message.problems.join('; ')}` : !r.needMore ? r.error.replace(/ at offset \d+/, '') : '';
      out.push({ kind: 'unknown', reason, ...sb.provenance(p) });
      sb.consume(p);
    }
  }

  /** Ends one stream (disconnect): pending bytes become unknown. */
  flush(key: string, reason: string): StreamRecord[] {
    const sb = this.buffers.get(key);
    this.buffers.delete(key);
    if (!sb || sb.buf.length === 0) return [];
    return [{ kind: 'unknown', reason, ...sb.provenance(sb.buf.length) }];
  }

  /** Keys of streams with pending bytes. */
  keys(): string[] {
    return [...this.buffers.keys()];
  }
}
