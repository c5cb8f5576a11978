/**
 * A small incremental CBOR (RFC 8949) item reader.
 *
 * Hand-written on purpose: no well-kept JS CBOR library (cbor, cbor-x, cborg) reports, for a
 * partial buffer, "need more bytes" apart from "malformed", with byte offsets. They decode complete
 * buffers and throw one kind of error for both "the buffer ends inside this item" and "these bytes
 * are not CBOR". The Victron stream needs the difference (wait for the next ATT piece vs. report
 * unknown bytes) and needs to know where every item starts and ends in the stream.
 *
 * Limits that keep garbage from costing much: nesting deeper than {@link MAX_DEPTH} is malformed
 * (no stack blow-up), and a string longer than {@link MAX_LENGTH} or an array/map of more than
 * {@link MAX_ITEMS} items (longer than any Victron message) is malformed instead of waited for.
 */

interface ItemBase {
  /** Offset of the item's first byte (its initial byte) in the buffer. */
  start: number;
  /** Offset just past the item's last byte (for indefinite items: past the break 0xff). */
  end: number;
  /** Bytes of the head: initial byte plus argument (1, 2, 3, 5 or 9). */
  headLength: number;
  /** True for indefinite-length strings, arrays and maps (initial byte with additional info 31). */
  indefinite: boolean;
}

export type CborItem =
  | (ItemBase & { major: 'uint'; value: number | bigint })
  /** Negative integer: `value` is the integer itself (-1 - argument). */
  | (ItemBase & { major: 'nint'; value: number | bigint })
  /** Byte string (indefinite: the chunks concatenated). A view into the buffer when definite. */
  | (ItemBase & { major: 'bytes'; value: Uint8Array })
  | (ItemBase & { major: 'text'; value: string })
  | (ItemBase & { major: 'array'; children: CborItem[] })
  /** Map: `children` alternates key, value, key, value, ... (see {@link mapEntries}). */
  | (ItemBase & { major: 'map'; children: CborItem[] })
  | (ItemBase & { major: 'tag'; tag: number | bigint; value: CborItem })
  /** Simple value: false, true, null, undefined, or the number of an unassigned simple value. */
  | (ItemBase & { major: 'simple'; value: number | boolean | null | undefined })
  | (ItemBase & { major: 'float'; value: number });

export type CborMajor = CborItem['major'];

export type ReadResult =
  | { ok: true; item: CborItem; end: number }
  | { ok: false; needMore: true }
  | { ok: false; needMore: false; error: string; offset: number };

/** Deeper nesting is treated as garbage. */
export const MAX_DEPTH = 32;
/** Longer strings than any Victron message can hold: treated as garbage, not waited for. */
export const MAX_LENGTH = 1 << 16;
/**
 * More array items (map pairs) than any Victron message holds (a get-values of 11 registers is a
 * big one): treated as garbage. This also bounds the cost of re-reading an item that keeps
 * growing, piece after piece, without an end (an indefinite array in garbage).
 */
export const MAX_ITEMS = 2048;

// "Need more bytes" is a return value (undefined) inside the reader, as it is common (an item cut
// at the end of an ATT piece); malformed bytes are rare and thrown, caught in readItem (never escapes).
class Malformed {
  constructor(
    readonly error: string,
    readonly offset: number,
  ) {}
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Offset just past the argument last read by readArg (a module variable instead of a tuple: no allocation). */
let argEnd = 0;

/**
 * Reads the argument of a head whose additional information is `ai`; `pos` is just past the initial
 * byte; `argEnd` is set past the argument. Undefined when the buffer ends inside it.
 */
function readArg(buf: Uint8Array, pos: number, ai: number): number | bigint | undefined {
  if (ai < 24) {
    argEnd = pos;
    return ai;
  }
  const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
  if (n === 0) throw new Malformed(`reserved additional information ${ai}`, pos - 1);
  if (pos + n > buf.length) return undefined;
  argEnd = pos + n;
  if (n < 8) {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + buf[pos + i]!;
    return v;
  }
  let big = 0n;
  for (let i = 0; i < 8; i++) big = (big << 8n) | BigInt(buf[pos + i]!);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const STRING_MAJOR = ['', '', 'byte', 'text'];

function lengthOf(arg: number | bigint, what: string, start: number): number {
  if (typeof arg === 'bigint' || arg > MAX_LENGTH) throw new Malformed(`${what} of ${arg} is longer than any message`, start);
  return arg;
}

/** The item at `start`, or undefined when the buffer ends inside it; throws Malformed. */
function item(buf: Uint8Array, start: number, depth: number): CborItem | undefined {
  if (depth > MAX_DEPTH) throw new Malformed(`nesting deeper than ${MAX_DEPTH}`, start);
  if (start >= buf.length) return undefined;
  const ib = buf[start]!;
  const major = ib >> 5;
  const ai = ib & 0x1f;
  let pos = start + 1;

  if (ai === 31) {
    // Indefinite length: strings as definite chunks of their own type, arrays/maps up to a break.
    if (major === 2 || major === 3) {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        if (pos >= buf.length) return undefined;
        const cb = buf[pos]!;
        if (cb === 0xff) {
          pos++;
          break;
        }
        if (cb >> 5 !== major || (cb & 0x1f) === 31) throw new Malformed(`indefinite ${STRING_MAJOR[major]} string holds a chunk that is not a definite ${STRING_MAJOR[major]} string`, pos);
        const arg = readArg(buf, pos + 1, cb & 0x1f);
        if (arg === undefined) return undefined;
        const p = argEnd;
        const len = lengthOf(arg, 'string chunk', pos);
        if (p + len > buf.length) return undefined;
        total += len;
        if (total > MAX_LENGTH) throw new Malformed('indefinite string is longer than any message', start);
        chunks.push(buf.subarray(p, p + len));
        pos = p + len;
      }
      const all = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      return major === 2
        ? { major: 'bytes', value: all, start, end: pos, headLength: 1, indefinite: true }
        : { major: 'text', value: utf8.decode(all), start, end: pos, headLength: 1, indefinite: true };
    }
    if (major === 4 || major === 5) {
      const children: CborItem[] = [];
      for (;;) {
        if (pos >= buf.length) return undefined;
        if (buf[pos] === 0xff) {
          if (major === 5 && children.length % 2 !== 0) throw new Malformed('indefinite map ends after a key without its value', pos);
          return { major: major === 4 ? 'array' : 'map', children, start, end: pos + 1, headLength: 1, indefinite: true };
        }
        if (children.length >= (major === 5 ? 2 * MAX_ITEMS : MAX_ITEMS)) throw new Malformed(`indefinite ${major === 4 ? 'array' : 'map'} is longer than any message`, start);
        const c = item(buf, pos, depth + 1);
        if (c === undefined) return undefined;
        children.push(c);
        pos = c.end;
      }
    }
    if (major === 7) throw new Malformed('break (0xff) outside an indefinite-length item', start);
    throw new Malformed(`indefinite length is not allowed for major type ${major}`, start);
  }

  if (major === 7) {
    if (ai === 25 || ai === 26 || ai === 27) {
      const n = ai === 25 ? 2 : ai === 26 ? 4 : 8;
      if (pos + n > buf.length) return undefined;
      const dv = new DataView(buf.buffer, buf.byteOffset + pos, n);
      const value = n === 2 ? halfToFloat(dv.getUint16(0)) : n === 4 ? dv.getFloat32(0) : dv.getFloat64(0);
      return { major: 'float', value, start, end: pos + n, headLength: 1 + n, indefinite: false };
    }
    if (ai >= 28) throw new Malformed(`reserved additional information ${ai}`, start);
    const v = readArg(buf, pos, ai);
    if (v === undefined) return undefined;
    const p = argEnd;
    const n = Number(v);
    if (ai === 24 && n < 32) throw new Malformed(`simple value ${n} in two bytes (must be one)`, start);
    const value = n === 20 ? false : n === 21 ? true : n === 22 ? null : n === 23 ? undefined : n;
    return { major: 'simple', value, start, end: p, headLength: p - start, indefinite: false };
  }

  const arg = readArg(buf, pos, ai);
  if (arg === undefined) return undefined;
  const p = argEnd;
  const headLength = p - start;
  pos = p;
  switch (major) {
    case 0:
      return { major: 'uint', value: arg, start, end: pos, headLength, indefinite: false };
    case 1:
      return { major: 'nint', value: typeof arg === 'bigint' ? -1n - arg : -1 - arg, start, end: pos, headLength, indefinite: false };
    case 2:
    case 3: {
      const len = lengthOf(arg, `${STRING_MAJOR[major]} string`, start);
      if (pos + len > buf.length) return undefined;
      const bytes = buf.subarray(pos, pos + len);
      return major === 2
        ? { major: 'bytes', value: bytes, start, end: pos + len, headLength, indefinite: false }
        : { major: 'text', value: utf8.decode(bytes), start, end: pos + len, headLength, indefinite: false };
    }
    case 4:
    case 5: {
      if (typeof arg === 'bigint' || arg > MAX_ITEMS) throw new Malformed(`${major === 4 ? 'array' : 'map'} of ${arg} items is longer than any message`, start);
      const n = major === 5 ? 2 * arg : arg;
      const children: CborItem[] = [];
      for (let i = 0; i < n; i++) {
        const c = item(buf, pos, depth + 1);
        if (c === undefined) return undefined;
        children.push(c);
        pos = c.end;
      }
      return { major: major === 4 ? 'array' : 'map', children, start, end: pos, headLength, indefinite: false };
    }
    default: {
      const inner = item(buf, pos, depth + 1);
      if (inner === undefined) return undefined;
      return { major: 'tag', tag: arg, value: inner, start, end: inner.end, headLength, indefinite: false };
    }
  }
}

/**
 * Reads one item at `offset`: the item and its end, "need more bytes" (the buffer ends inside the
 * item: wait for more), or malformed with the offset of the offending byte. Never throws.
 */
const NEED_MORE: ReadResult = { ok: false, needMore: true };

export function readItem(buf: Uint8Array, offset: number): ReadResult {
  try {
    const it = item(buf, offset, 0);
    return it === undefined ? NEED_MORE : { ok: true, item: it, end: it.end };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, needMore: false, error: `${e.error} (byte 0x${hex2(buf[e.offset] ?? 0)} at offset ${e.offset})`, offset: e.offset };
    if (e instanceof RangeError) return { ok: false, needMore: false, error: `nesting too deep (${e.message})`, offset }; // not expected with MAX_DEPTH
    throw e;
  }
}

/** The key/value pairs of a map item. */
export function mapEntries(it: CborItem & { major: 'map' }): [CborItem, CborItem][] {
  const out: [CborItem, CborItem][] = [];
  for (let i = 0; i + 1 < it.children.length; i += 2) out.push([it.children[i]!, it.children[i + 1]!]);
  return out;
}

/** A JSON-friendly view of an item, for display of parameters we don't interpret (bytes as hex, bigints as strings). */
export function cborToJs(it: CborItem): unknown {
  switch (it.major) {
    case 'uint':
    case 'nint':
      return typeof it.value === 'bigint' ? it.value.toString() : it.value;
    case 'bytes':
      return Buffer.from(it.value.buffer, it.value.byteOffset, it.value.byteLength).toString('hex');
    case 'text':
    case 'float':
    case 'simple':
      return it.value ?? null;
    case 'array':
      return it.children.map(cborToJs);
    case 'map':
      return mapEntries(it).map(([k, v]) => [cborToJs(k), cborToJs(v)]);
    case 'tag':
      return { tag: String(it.tag), value: cborToJs(it.value) };
  }
}

type ScanFrame =
  /** An array, map (2 items per pair) or tag (1 item): `left` items to go, or -1 up to a break; `n` read so far. */
  | { t: 'items'; left: number; n: number; map: boolean }
  /** The chunks of an indefinite string of major type `major`: `total` bytes so far. */
  | { t: 'chunks'; major: number; total: number; start: number };

/** Outcome of {@link ItemScanner.resume}. */
export type ScanResult = { done: true; end: number } | { done: false; needMore: true } | { done: false; needMore: false };

/**
 * Checks where one item ends without building it, and resumes where it stopped when the buffer
 * grows: a stream waiting for an item that arrives in many small pieces (an indefinite string over
 * thousands of ATT values) then costs time linear in its bytes, not quadratic (readItem re-reads
 * from the item's start). Follows readItem's rules and limits exactly, so "need more bytes" here
 * is "need more bytes" there (a property test checks it); positions are absolute, `base` is the
 * absolute position of `buf[0]`.
 */
export class ItemScanner {
  private stack: ScanFrame[] = [];
  private started = false;

  constructor(private pos: number) {}

  resume(buf: Uint8Array, base = 0): ScanResult {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (this.started && !top) return { done: true, end: this.pos };
      const p = this.pos - base;
      if (top?.t === 'chunks') {
        if (p >= buf.length) return { done: false, needMore: true };
        const cb = buf[p]!;
        if (cb === 0xff) {
          this.pos++;
          this.stack.pop();
          continue;
        }
        if (cb >> 5 !== top.major || (cb & 0x1f) === 31) return { done: false, needMore: false };
        const h = head(buf, p + 1, cb & 0x1f);
        if (h === NEED) return { done: false, needMore: true };
        if (h === BAD || typeof h[0] === 'bigint' || h[0] > MAX_LENGTH) return { done: false, needMore: false };
        if (h[1] + h[0] > buf.length) return { done: false, needMore: true };
        if (top.total + h[0] > MAX_LENGTH) return { done: false, needMore: false };
        top.total += h[0];
        this.pos = base + h[1] + h[0];
        continue;
      }
      if (top) {
        if (top.left === 0) {
          this.stack.pop();
          continue;
        }
        if (top.left < 0) {
          if (p >= buf.length) return { done: false, needMore: true };
          if (buf[p] === 0xff) {
            if (top.map && top.n % 2 !== 0) return { done: false, needMore: false };
            this.pos++;
            this.stack.pop();
            continue;
          }
          if (top.n >= (top.map ? 2 * MAX_ITEMS : MAX_ITEMS)) return { done: false, needMore: false };
        }
      }
      // One item's head at p, at depth stack.length.
      if (this.stack.length > MAX_DEPTH) return { done: false, needMore: false };
      if (p >= buf.length) return { done: false, needMore: true };
      const ib = buf[p]!;
      const major = ib >> 5;
      const ai = ib & 0x1f;
      let frame: ScanFrame | undefined;
      let next: number;
      if (ai === 31) {
        if (major === 2 || major === 3) frame = { t: 'chunks', major, total: 0, start: this.pos };
        else if (major === 4 || major === 5) frame = { t: 'items', left: -1, n: 0, map: major === 5 };
        else return { done: false, needMore: false };
        next = p + 1;
      } else if (major === 7 && (ai === 25 || ai === 26 || ai === 27)) {
        next = p + 1 + (ai === 25 ? 2 : ai === 26 ? 4 : 8);
        if (next > buf.length) return { done: false, needMore: true };
      } else if (major === 7 && ai >= 28) return { done: false, needMore: false };
      else {
        const h = head(buf, p + 1, ai);
        if (h === NEED) return { done: false, needMore: true };
        if (h === BAD) return { done: false, needMore: false };
        const [arg, e] = h;
        next = e;
        if (major === 7) {
          if (ai === 24 && Number(arg) < 32) return { done: false, needMore: false };
        } else if (major === 2 || major === 3) {
          if (typeof arg === 'bigint' || arg > MAX_LENGTH) return { done: false, needMore: false };
          next = e + arg;
          if (next > buf.length) return { done: false, needMore: true };
        } else if (major === 4 || major === 5) {
          if (typeof arg === 'bigint' || arg > MAX_ITEMS) return { done: false, needMore: false };
          frame = { t: 'items', left: major === 5 ? 2 * arg : arg, n: 0, map: major === 5 };
        } else if (major === 6) frame = { t: 'items', left: 1, n: 0, map: false };
      }
      // The item is read (or opened): count it in its container, then move on.
      if (top?.t === 'items') {
        if (top.left > 0) top.left--;
        top.n++;
      }
      this.started = true;
      this.pos = base + next;
      if (frame) this.stack.push(frame);
    }
  }
}

const NEED = 0;
const BAD = 1;

/** The argument of a head (see readArg) and the offset past it; NEED or BAD instead of throwing. */
function head(buf: Uint8Array, pos: number, ai: number): [number | bigint, number] | typeof NEED | typeof BAD {
  if (ai >= 28) return BAD;
  const arg = readArg(buf, pos, ai);
  return arg === undefined ? NEED : [arg, argEnd];
}
