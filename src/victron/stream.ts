/**
 * Transfer reassembly (protocol.md, "Transfers span both data characteristics"): one buffer per
 * stream (connection + direction: the caller makes the key), fed with the pieces written/notified
 * on Data and LastData.
 *
 * - Messages are emitted as soon as their last byte arrives (not at LastData).
 * - A 0xff where a message should start is padding (a record of its own, skipped).
 * - Bytes that do not frame (malformed CBOR, unknown opcode, parameters of the wrong type) are
 *   emitted as one unknown record up to the offset from which messages (known opcodes 0x01-0x10,
 *   right parameter types) and padding frame cleanly again, so a following valid message is not
 *   lost. When that depends on bytes not yet here, the stream waits for them (the records keep the
 *   frames of their bytes, so their provenance is unchanged).
 *
 * Resynchronisation rule (what the property test in test/victron/resync.test.ts checks on every
 * one-byte damage of multi-message, multi-piece streams):
 * 1. A malformed message never costs a message that lies wholly outside the bytes it spans. Its
 *    unknown run ends at the first offset from which messages chain cleanly: 8 in a row, to the
 *    end of the buffer, or for 6 bytes up to a damage of their own (which then gets its own
 *    unknown record: a later damage must not swallow the valid messages before it). A clean chain
 *    that starts before that later damage is preferred.
 * 2. A message is never made from bytes of a known-bad run: after bytes that do not frame, the
 *    next piece continues the run and must resynchronise by rule 1; it is never parsed from its
 *    first byte as if a message started there. Only the end of the transfer (LastData, flush)
 *    ends a run.
 * 3. What no decoder can tell is not promised: a damaged length can make a well-formed message
 *    that swallows its neighbour, and `0a 07 01 03 00` frames as `0a | 07 01 03 00` or as
 *    `0a 07 | 01 | 03 00`; the earliest clean chain wins.
 * - Waiting is linear: a message waiting for one growing item resumes the item's scan
 *   (ItemScanner) once it has {@link SCAN_FROM} bytes, and a candidate's chain resumes where it
 *   stopped, instead of re-parsing the buffer on every piece.
 * - A LastData piece ends the transfer: bytes still waiting for more then become unknown
 *   ({@link INCOMPLETE_AT_LASTDATA}); a complete message found inside them is kept.
 * - flush()/flushAll() end streams (disconnect, end of capture) the same way, with their reason.
 * - Memory is bounded: a stream buffering more than {@link MAX_PENDING} bytes without a message
 *   emits them as unknown.
 */
import { slabAlloc } from '../util/slab.js';
import { ItemScanner } from './cbor.js';
import { isKnownOpcode, NEED_MORE, parseMessage, type ParseResult, type VictronMessageBody } from './message.js';

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
  /** Every frame that carried some of the bytes, in order (shared by the records of one piece: read-only). */
  frames: number[];
  /** The bytes' place in each piece, in order. */
  ranges: PieceRange[];
  /** The frame that carried the last byte. */
  frame: number;
  /** Time of that frame. */
  timeUs: number;
}

export type StreamOutput =
  | ({ kind: 'message'; body: VictronMessageBody } & Provenance)
  | ({ kind: 'padding' } & Provenance)
  | ({ kind: 'unknown'; reason: string } & Provenance);

/**
 * Receives a stream's records as they complete, in stream order. `at` is one object reused for
 * every record (no object per record on the hot path): read its fields, never keep it.
 */
export interface StreamSink {
  message(body: VictronMessageBody, at: Provenance): void;
  padding(at: Provenance): void;
  unknown(reason: string, at: Provenance): void;
}

/** A sink that collects the records as StreamOutput objects (push() and flush()). */
function collect(out: StreamOutput[]): StreamSink {
  return {
    message: (body, at) => out.push({ kind: 'message', body, ...at }),
    padding: (at) => out.push({ kind: 'padding', ...at }),
    unknown: (reason, at) => out.push({ kind: 'unknown', reason, ...at }),
  };
}

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
  /** `[frame]`: the frames of every record inside the piece (one array per piece, not per record). */
  frames: number[];
}

/** A stream that buffers more than this without a message is garbage: shown as unknown and dropped. */
export const MAX_PENDING = 64 * 1024;

/**
 * A message waiting with fewer bytes than this is parsed again on the next piece instead of
 * scanned on: cheaper than an ItemScanner for the common message cut by a piece's end, and still
 * linear (a piece re-reads at most this many bytes of the pieces before it).
 */
export const SCAN_FROM = 64;

let fullParses = 0;
/** Messages parsed from their first byte so far, in this process: a measure of work for tests and the fuzzer. */
export function fullParseCount(): number {
  return fullParses;
}

/** How far a resynchronisation candidate's chain of messages got (positions absolute). */
interface ChainState {
  p: number;
  q: number;
  n: number;
  bytes: number;
  strong: boolean;
}

/** Shared by every empty buffer: consuming all pending bytes allocates nothing. */
const EMPTY = new Uint8Array(0);

class StreamBuffer {
  buf: Uint8Array = EMPTY;
  segments: Segment[] = [];
  /** Absolute stream position of buf[0]: the memos below are kept in absolute positions. */
  base = 0;
  /** The front bytes are out of sync: a resynchronisation point must be found before anything frames. */
  resync = false;
  /** While resyncing: the next candidate to try (absolute); every earlier one was rejected. */
  scanFrom = 0;
  /** Why the run being resynchronised over is unknown (the first failure's reason). */
  reason = '';
  /** The message at `msg` waits for the item scanned by `scanner` (so growing pieces are not re-parsed). */
  private wait: { msg: number; scanner: ItemScanner } | undefined;
  /** The chain of the candidate being waited on, where it stopped. */
  chain: ChainState | undefined;
  /** A 'weak' candidate found while resyncing, and where its damage starts (absolute). */
  weak: { p: number; end: number } | undefined;
  /** Set by chainFrom for a 'weak' chain: where its damage starts (absolute). */
  weakEnd = 0;
  /** What locate() fills for each record. */
  private readonly at: Provenance = { bytes: EMPTY, frames: [], ranges: [], frame: 0, timeUs: 0 };

  append(p: Piece): void {
    let next: Uint8Array;
    if (this.buf.length === 0) next = p.bytes; // nothing pending: parse the piece in place
    else {
      // From a slab: a message cut by a piece's end is common, and views of a small array of its own are slow.
      next = slabAlloc(this.buf.length + p.bytes.length);
      next.set(this.buf);
      next.set(p.bytes, this.buf.length);
    }
    this.segments.push({ start: this.buf.length, length: p.bytes.length, frame: p.frame, timeUs: p.timeUs, pieceOffset: 0, frames: [p.frame] });
    this.buf = next;
  }

  /**
   * parseMessage at `off`, except that a message known to wait for one growing item answers
   * "need more" from the item's resumed scan: waiting costs time linear in the bytes, not quadratic.
   */
  parse(off: number): ParseResult {
    const abs = this.base + off;
    if (this.wait?.msg === abs) {
      const s = this.wait.scanner.resume(this.buf, this.base);
      if (!s.done && s.needMore) return NEED_MORE;
      this.wait = undefined;
    }
    fullParses++;
    const r = parseMessage(this.buf, off);
    if (!r.ok && r.needMore && r.at !== undefined && this.buf.length - off >= SCAN_FROM) this.wait = { msg: abs, scanner: new ItemScanner(this.base + r.at) };
    return r;
  }

  /** The provenance of bytes [a, b) of the buffer (a < b), in `at`: one object reused for every record. */
  locate(a: number, b: number): Provenance {
    const at = this.at;
    const segments = this.segments;
    let i = 0;
    let s = segments[0]!;
    while (s.start + s.length <= a) s = segments[++i]!;
    // A record that is the whole buffer (a value notified on its own) keeps it: no second view.
    at.bytes = a === 0 && b === this.buf.length ? this.buf : this.buf.subarray(a, b);
    at.frame = s.frame;
    at.timeUs = s.timeUs;
    const first: PieceRange = { frame: s.frame, start: s.pieceOffset + a - s.start, end: s.pieceOffset + Math.min(b, s.start + s.length) - s.start };
    at.ranges = [first];
    // The common case, bytes of one piece: no loop.
    if (b <= s.start + s.length) {
      at.frames = s.frames;
      return at;
    }
    at.frames = [s.frame];
    for (i++; i < segments.length; i++) {
      s = segments[i]!;
      if (s.start >= b) break;
      if (s.length === 0) continue;
      if (s.frame !== at.frame) at.frames.push(s.frame);
      at.ranges.push({ frame: s.frame, start: s.pieceOffset, end: s.pieceOffset + Math.min(b, s.start + s.length) - s.start });
      at.frame = s.frame;
      at.timeUs = s.timeUs;
    }
    return at;
  }

  consume(n: number): void {
    // All of it (a whole transfer, the common case): nothing to cut, and the last piece is released.
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
    this.base += n;
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
    if (drop === this.segments.length) while (this.segments.length > 0) this.segments.pop(); // not `length = 0` (a runtime call)
    else if (drop) this.segments.splice(0, drop);
    if (this.wait && this.wait.msg < this.base) this.wait = undefined;
    if (this.chain && this.chain.p < this.base) this.chain = undefined;
    if (this.weak && this.weak.p < this.base) this.weak = undefined;
    if (this.scanFrom < this.base) this.scanFrom = this.base;
  }

  /** The transfer is over (or its bytes were dropped): nothing waits any more. */
  reset(): void {
    this.wait = undefined;
    this.chain = undefined;
    this.weak = undefined;
    this.resync = false;
  }
}

/** Messages in a row that make a resynchronisation point certain enough without reaching the buffer's end. */
const RESYNC_CHAIN = 8;
/**
 * Bytes of complete messages (one of 3 bytes or more among them) that make a resynchronisation
 * point good enough when what follows them does not frame: that is a damage of its own (it gets its
 * own unknown record), and must not cost the messages before it.
 */
const RESYNC_BEFORE_DAMAGE = 6;

/**
 * Parses messages (and padding) from `p` on: 'clean' when they run cleanly for
 * {@link RESYNC_CHAIN} messages, or to the end of the buffer (with `strongAtEnd`, only when one of
 * them has 3 bytes or more); 'pending' when they run cleanly into
 * a message that needs more bytes; 'weak' when they run cleanly for {@link RESYNC_BEFORE_DAMAGE}
 * bytes (one message of 3 bytes or more among them) up to bytes that do not frame (`sb.weakEnd`
 * says where); 'bad' otherwise (not a known opcode 0x01-0x10, malformed, or the wrong shape).
 * Before the end of the transfer (`final` false), reaching the buffer's end counts as clean only
 * after a message of 3 bytes or more: a lone `01` or padding there says too little, the next piece
 * decides. A pending chain is remembered in `sb.chain`, so it is resumed, not re-parsed.
 */
function chainFrom(sb: StreamBuffer, p: number, final: boolean, strongAtEnd = false): 'clean' | 'pending' | 'weak' | 'bad' {
  const buf = sb.buf;
  const memo = sb.chain?.p === sb.base + p ? sb.chain : undefined;
  let q = memo ? memo.q - sb.base : p;
  let n = memo?.n ?? 0;
  let bytes = memo?.bytes ?? 0;
  let strong = memo?.strong ?? false;
  const damaged = () => {
    if (!strong || bytes < RESYNC_BEFORE_DAMAGE) return 'bad';
    sb.weakEnd = sb.base + q;
    return 'weak';
  };
  while (q < buf.length) {
    if (buf[q] === 0xff) {
      q++;
      continue;
    }
    if (!isKnownOpcode(buf[q])) return damaged();
    const r = sb.parse(q);
    if (!r.ok) {
      if (!r.needMore) return damaged();
      if (strongAtEnd && !strong) return 'bad';
      sb.chain = { p: sb.base + p, q: sb.base + q, n, bytes, strong };
      return 'pending';
    }
    if (!r.message.shapeOk) return damaged();
    if (r.end - q >= 3) strong = true;
    bytes += r.end - q;
    q = r.end;
    if (++n >= RESYNC_CHAIN) return 'clean';
  }
  if (strong || (final && !strongAtEnd)) return 'clean';
  if (final) return 'bad';
  sb.chain = { p: sb.base + p, q: sb.base + q, n, bytes, strong };
  return 'pending';
}

/**
 * Where to resume after bytes at the start of the buffer that do not frame: the first candidate
 * offset (from `sb.scanFrom` on, byte by byte) from which the rest frames cleanly. A 'weak'
 * candidate (clean messages, then more damage) is taken unless a clean one starts before the
 * damage it runs into. When a candidate runs into a message still waiting for bytes, the choice
 * depends on bytes not here yet: -1 (wait), unless the transfer is over (`final`). The buffer's
 * length when nothing frames.
 */
function resyncPoint(sb: StreamBuffer, final: boolean): number {
  for (let p = Math.max(0, sb.scanFrom - sb.base); p < sb.buf.length; p++) {
    if (sb.weak !== undefined && sb.base + p > sb.weak.end) return sb.weak.p - sb.base;
    sb.scanFrom = sb.base + p;
    const c = chainFrom(sb, p, final);
    if (c === 'clean') return p;
    if (c === 'pending') return final ? p : -1;
    if (c === 'weak' && sb.weak === undefined) sb.weak = { p: sb.base + p, end: sb.weakEnd };
  }
  if (sb.weak !== undefined) return sb.weak.p - sb.base;
  sb.scanFrom = sb.base + sb.buf.length;
  return sb.buf.length;
}

/**
 * Inside a message that the end of its transfer left incomplete: messages frame from `p` to the
 * end of the transfer, one of them of 3 bytes or more (a lone 1- or 2-byte "message" there is far
 * more likely one of the incomplete message's parameters, e.g. the 01 of 05 01 ...).
 */
function completeAt(sb: StreamBuffer, p: number): boolean {
  if (!isKnownOpcode(sb.buf[p])) return false;
  return chainFrom(sb, p, true, true) !== 'bad';
}

export class TransferReassembler {
  private buffers = new Map<string, StreamBuffer>();

  /**
   * Feeds one piece (an ATT value on Data or LastData) of the stream `key` (connection +
   * direction); returns the records it completed, in stream order (appended to `out` when given).
   */
  push(key: string, piece: Piece, out: StreamOutput[] = []): StreamOutput[] {
    this.pushTo(key, piece, collect(out));
    return out;
  }

  /** push() that hands the records to `sink` as they complete, without an object per record. */
  pushTo(key: string, piece: Piece, sink: StreamSink): void {
    let sb = this.buffers.get(key);
    if (!sb) {
      sb = new StreamBuffer();
      this.buffers.set(key, sb);
    }
    sb.append(piece);
    if (piece.role === 'lastData') this.finish(sb, sink, INCOMPLETE_AT_LASTDATA);
    else this.drain(sb, sink, false);
    if (sb.buf.length > MAX_PENDING) {
      sink.unknown(sb.resync ? `${sb.reason}; more than ${MAX_PENDING} bytes without a resynchronisation point` : `more than ${MAX_PENDING} bytes without a complete message`, sb.locate(0, sb.buf.length));
      sb.consume(sb.buf.length);
      // What follows continues the dropped bytes: it must resynchronise, not be parsed from its first byte.
      sb.reset();
      sb.resync = true;
      sb.reason = 'continues bytes dropped as unknown';
    }
    // An emptied buffer stays for the stream's next piece (flush() drops it): no Map churn per piece.
    if (sb.buf.length === 0) while (sb.segments.length > 0) sb.segments.pop(); // an empty piece holds nothing that waits
  }

  private drain(sb: StreamBuffer, sink: StreamSink, final: boolean): void {
    while (sb.buf.length > 0) {
      const buf = sb.buf;
      if (!sb.resync) {
        // Messages and padding from the front, the buffer cut once after them (not once per message).
        let at = 0;
        let r: ParseResult = NEED_MORE;
        while (at < buf.length) {
          if (buf[at] === 0xff) {
            let n = at + 1;
            while (n < buf.length && buf[n] === 0xff) n++;
            sink.padding(sb.locate(at, n));
            at = n;
            continue;
          }
          r = sb.parse(at);
          if (!r.ok || !r.message.shapeOk) break;
          sink.message(r.message, sb.locate(at, r.end));
          at = r.end;
        }
        sb.consume(at);
        if (at === buf.length || (!r.ok && r.needMore)) return;
        // Not a message here: the bytes are unknown up to where messages (or padding) frame again.
        sb.resync = true;
        sb.scanFrom = sb.base + 1;
        sb.reason = r.ok ? `${r.message.typeName}: ${r.message.problems.join('; ')}` : r.error.replace(/ at offset \d+/, '');
      }
      const p = resyncPoint(sb, final);
      if (p < 0) return;
      // Nothing frames yet: the run goes on into the next piece (never parsed from its first byte).
      if (p >= sb.buf.length && !final) return;
      if (p > 0) sink.unknown(sb.reason, sb.locate(0, p));
      sb.consume(p);
      sb.resync = false;
      sb.chain = undefined;
      sb.weak = undefined;
    }
  }

  /**
   * The transfer is over: frame what can be, and what still waits for more bytes is incomplete:
   * unknown with `reason`. Any complete message found after the start of an incomplete one is
   * kept (a garbage length must not swallow a neighbour).
   */
  private finish(sb: StreamBuffer, sink: StreamSink, reason: string): void {
    this.drain(sb, sink, true);
    while (sb.buf.length > 0) {
      let p = 1;
      while (p < sb.buf.length && !completeAt(sb, p)) p++;
      sink.unknown(reason, sb.locate(0, p));
      sb.consume(p);
      this.drain(sb, sink, true);
    }
    sb.reset();
  }

  /**
   * Ends one stream (disconnect, a value the capture cut short): what frames is emitted, pending
   * bytes become unknown with `reason`.
   */
  flush(key: string, reason: string): StreamOutput[] {
    const out: StreamOutput[] = [];
    this.flushTo(key, reason, collect(out));
    return out;
  }

  /** flush() that hands the records to `sink`. */
  flushTo(key: string, reason: string, sink: StreamSink): void {
    const sb = this.buffers.get(key);
    this.buffers.delete(key);
    if (sb) this.finish(sb, sink, reason);
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
    return [...this.buffers].filter(([, sb]) => sb.buf.length > 0 || sb.resync).map(([k]) => k);
  }

  /** The earliest frame whose bytes still wait in a stream (what later records may still name), if any. */
  oldestPendingFrame(): number | undefined {
    let oldest: number | undefined;
    for (const sb of this.buffers.values()) {
      const f = sb.segments[0]?.frame;
      if (f !== undefined && (oldest === undefined || f < oldest)) oldest = f;
    }
    return oldest;
  }
}
