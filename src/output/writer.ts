import type { Writable } from 'node:stream';

/** The two hex digits of every byte value, as one big-endian 16-bit number (written with one store). */
const HEX16 = Uint16Array.from({ length: 256 }, (_, i) => ('0123456789abcdef'.charCodeAt(i >> 4) << 8) | '0123456789abcdef'.charCodeAt(i & 15));
const NL = 0x0a;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** "00" to "99" as big-endian 16-bit numbers: integers are written two digits per division and store. */
const DIGITS16 = Uint16Array.from({ length: 100 }, (_, i) => ((0x30 + Math.floor(i / 10)) << 8) | (0x30 + (i % 10)));

/** Where a piece of output lies in a LineWriter's buffer, to write it again (`mark`, `markEnd`, `repeat`). */
export interface Span {
  /** The buffer it is in (LineWriter.bufferId): -1 for none. */
  buffer: number;
  start: number;
  end: number;
}

/** Buffers started by all writers: a buffer's number, so that a Span names one buffer of one writer. */
let buffersStarted = 0;

/**
 * Buffers output and writes it in large chunks, waiting for 'drain' so that a slow consumer (a pager,
 * `| jq`) bounds memory. A closed pipe (`| head`) ends output quietly.
 *
 * Lines go straight into a Buffer: whole strings with `add()`, or piece by piece with the byte-level
 * methods (`ascii`, `bytes`, `int`, `hex`, `json`, ...) and `end()`, which is how the NDJSON formatters
 * write without building a string per record. A full buffer is queued and a new one started, so the
 * formatters never wait; `maybeFlush()` (once per batch) writes the queue and applies backpressure.
 */
export class LineWriter {
  private buf!: Buffer;
  /** `buf` as a DataView: two bytes in one store. */
  private view!: DataView;
  private pos = 0;
  /** The number of `buf` (see buffersStarted). */
  private bufferId = 0;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  /** JSON string literals already encoded (names, units, typeNames: a handful of distinct values). */
  private jsonCache = new Map<string, Buffer>();
  private tailCache = new Map<string, Buffer>();
  closed = false;

  constructor(private readonly out: Writable, private readonly chunk = 1 << 16) {
    this.newBuffer(chunk);
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  /** Makes room for n more bytes: a full buffer is queued (not written yet) and a new one started. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) {
      this.queued.push(this.buf.subarray(0, this.pos));
      this.queuedBytes += this.pos;
    }
    this.newBuffer(Math.max(this.chunk, n));
  }

  private newBuffer(size: number): void {
    this.bufferId = ++buffersStarted;
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, size);
    this.pos = 0;
  }

  /** Queue one line (without its newline) synchronously; call `maybeFlush()` now and then (e.g. once per batch). */
  add(s: string): void {
    this.room(s.length * 3 + 1);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.buf[this.pos++] = NL;
  }

  /** Queue one line (without newline); resolves immediately unless a flush must wait. */
  async line(s: string): Promise<void> {
    if (this.closed) return;
    this.add(s);
    await this.maybeFlush();
  }

  /** Starts `span` where the next byte goes. */
  mark(span: Span): void {
    span.buffer = this.bufferId;
    span.start = this.pos;
  }

  /** Ends `span` after the last byte written; a span that crossed into a new buffer is none. */
  markEnd(span: Span): void {
    if (span.buffer !== this.bufferId) span.buffer = -1;
    span.end = this.pos;
  }

  /** Writes the bytes of `span` again, with one copy, when they are still in the buffer being written (and fit); false (nothing written) otherwise. */
  repeat(span: Span): boolean {
    const n = span.end - span.start;
    if (span.buffer !== this.bufferId || this.pos + n > this.buf.length) return false;
    this.buf.copyWithin(this.pos, span.start, span.end);
    this.pos += n;
    return true;
  }

  /** Ends the line being written piece by piece. */
  end(): void {
    this.room(1);
    this.buf[this.pos++] = NL;
  }

  /** One byte (JSON punctuation). */
  byte(x: number): void {
    this.room(1);
    this.buf[this.pos++] = x;
  }

  /** A string known to be ASCII (JSON punctuation, keys, fixed names), written as is. */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Any string, UTF-8 encoded, written as is. */
  utf8(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A number as a template literal writes it (integers digit by digit). */
  numText(v: number): void {
    if (Number.isInteger(v) && v >= 0 && v < 0x1_0000_0000) this.uint(v);
    else this.ascii(String(v));
  }

  /**
   * `v.toFixed(d)` as bytes: the digits of k, the integer nearest v * 10^d, when v is that close to d
   * decimals (as the decoder's rounded values are); otherwise through toFixed.
   */
  fixed(v: number, d: number): void {
    const m = POW10[d];
    if (m !== undefined) {
      const y = v * m;
      const k = Math.round(y);
      // toFixed writes "-0.00" for a negative v that rounds to zero: left to it.
      if (Math.abs(y) < 0x8000_0000 && Math.abs(y - k) <= 1e-3 && !(v < 0 && k === 0)) {
        let a = k;
        if (a < 0) {
          this.ascii('-');
          a = -a;
        }
        const ip = Math.floor(a / m);
        this.uint(ip);
        if (d > 0) {
          this.ascii('.');
          this.padded(a - ip * m, d);
        }
        return;
      }
    }
    this.ascii(v.toFixed(d));
  }

  /**
   * String(v) for a number that is, or is close to, a decimal with d digits after the point (a scaled
   * register value): its digits, without trailing zeros, when v is exactly the double nearest that
   * decimal (then the decimal is the shortest text that reads back as v, which is what String() prints,
   * for up to 15 significant digits); otherwise String(v) itself.
   */
  decimal(v: number, d: number): void {
    const m = POW10[d];
    if (m !== undefined) {
      const k = Math.round(v * m);
      if (k / m === v && Math.abs(k) < 1e15 && (Math.abs(v) >= 1e-6 || v === 0)) {
        let a = k < 0 ? -k : k;
        let places = d;
        while (places > 0 && a % 10 === 0) {
          a /= 10;
          places--;
        }
        const scale = POW10[places]!;
        const ip = Math.floor(a / scale);
        if (ip < 0x1_0000_0000) {
          if (k < 0) this.byte(0x2d);
          this.uint(ip);
          if (places > 0) {
            this.byte(0x2e);
            this.padded(a - ip * scale, places);
          }
          return;
        }
      }
    }
    this.ascii(String(v));
  }

  /** Bytes written as is (pre-encoded keys). */
  bytes(src: Uint8Array): void {
    const n = src.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    // One `set` costs about as much as a byte loop over 10 bytes (measured on Node 20).
    if (n >= 8) {
      b.set(src, p);
      p += n;
    } else for (let i = 0; i < n; i++) b[p++] = src[i]!;
    this.pos = p;
  }

  /** A number as JSON.stringify writes it (integers digit by digit; others through String()). */
  num(v: number): void {
    if (Number.isInteger(v) && v >= 0 && v < 0x1_0000_0000) return this.uint(v);
    if (!Number.isFinite(v)) return this.ascii('null');
    this.ascii(String(v));
  }

  /** A non-negative integer below 2^32, in decimal. */
  uint(v: number): void {
    this.room(10);
    const b = this.buf;
    let p = this.pos;
    if (v < 10) {
      b[p] = 0x30 + v;
      this.pos = p + 1;
      return;
    }
    // The number of digits by a loop: a chain of comparisons was deoptimized whenever a run's numbers
    // first reached another power of ten (frame numbers do, mid-run), costing att about 6% of its instructions.
    let n = 2;
    while (n < 10 && v >= POW10[n]!) n++;
    p += n;
    this.pos = p;
    if (v < 0x8000_0000) {
      // Two digits per integer division (`| 0`, below 2^31).
      const view = this.view;
      while (v >= 100) {
        const q = (v / 100) | 0;
        p -= 2;
        view.setUint16(p, DIGITS16[v - q * 100]!);
        v = q;
      }
      if (v >= 10) view.setUint16(p - 2, DIGITS16[v]!);
      else b[p - 1] = 0x30 + v;
      return;
    }
    while (v >= 10) {
      const q = Math.floor(v / 10);
      b[--p] = 0x30 + (v - q * 10);
      v = q;
    }
    b[--p] = 0x30 + v;
  }

  /** An integer of exactly `width` digits, zero-padded (0 <= v < 10^width). */
  padded(v: number, width: number): void {
    this.room(width);
    const b = this.buf;
    let p = this.pos + width;
    this.pos = p;
    let i = width;
    if (v < 0x8000_0000) {
      const view = this.view;
      for (; i >= 2; i -= 2) {
        const q = (v / 100) | 0;
        p -= 2;
        view.setUint16(p, DIGITS16[v - q * 100]!);
        v = q;
      }
    }
    for (; i > 0; i--) {
      const q = Math.floor(v / 10);
      b[--p] = 0x30 + (v - q * 10);
      v = q;
    }
  }

  /** Bytes as lowercase hex digits (no quotes). */
  hex(src: Uint8Array): void {
    const n = src.length;
    this.room(n * 2);
    const v = this.view;
    const p = this.pos;
    for (let i = 0; i < n; i++) v.setUint16(p + 2 * i, HEX16[src[i]!]!);
    this.pos = p + 2 * n;
  }

  /** A JSON string literal (quotes and escapes, as JSON.stringify writes it). */
  json(s: string): void {
    this.room(s.length * 6 + 2);
    this.pos += this.buf.write(JSON.stringify(s), this.pos, 'utf8');
  }

  /** A JSON string literal from a small set of recurring values (names, units): encoded once, then copied. */
  jsonCached(s: string): void {
    let enc = this.jsonCache.get(s);
    if (enc === undefined) {
      enc = Buffer.from(JSON.stringify(s), 'utf8');
      if (this.jsonCache.size < 4096) this.jsonCache.set(s, enc);
    }
    this.bytes(enc);
  }

  /** The rest of a JSON string literal: a space, `s` escaped and the closing quote (cached like jsonCached: " V" of "13.27 V"). */
  spacedJsonTail(s: string): void {
    let enc = this.tailCache.get(s);
    if (enc === undefined) {
      enc = Buffer.from(JSON.stringify(' ' + s).slice(1), 'utf8');
      if (this.tailCache.size < 4096) this.tailCache.set(s, enc);
    }
    this.bytes(enc);
  }

  /** Writes what is queued when enough has piled up (and drops it after the reader went away). */
  async maybeFlush(): Promise<void> {
    if (this.closed) {
      this.queued = [];
      this.queuedBytes = 0;
      this.pos = 0;
      this.bufferId = ++buffersStarted;
    } else if (this.queuedBytes + this.pos >= this.chunk) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pos > 0) {
      this.queued.push(this.buf.subarray(0, this.pos));
      this.queuedBytes += this.pos;
      // The queued buffer now belongs to the stream until written: never overwrite it.
      this.newBuffer(this.chunk);
    }
    if (this.queued.length === 0 || this.closed) return;
    const parts = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    let ok = true;
    for (const p of parts) ok = this.out.write(p);
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('close', done);
          this.out.off('error', done);
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('close', done);
        this.out.on('error', done);
      });
    }
  }
}
