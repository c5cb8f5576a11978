/**
 * A small incremental CBOR (RFC 8949) item reader. Hand-written on purpose: the well-kept JS CBOR
 * libraries (cbor, cbor-x, cborg) decode complete buffers and throw one error type for both "the
 * buffer ends inside this item" and "these bytes are not CBOR"; the Victron stream needs to tell
 * the two apart (wait for the next ATT piece vs. report unknown bytes) and to know where each item
 * starts and ends in the stream.
 */

export type CborItem =
  | { major: 'uint'; value: number | bigint; start: number; end: number }
  | { major: 'nint'; value: number | bigint; start: number; end: number }
  | { major: 'bytes'; value: Uint8Array; start: number; end: number; indefinite?: boolean }
  | { major: 'text'; value: string; start: number; end: number; indefinite?: boolean }
  | { major: 'array'; items: CborItem[]; start: number; end: number; indefinite?: boolean }
  | { major: 'map'; entries: [CborItem, CborItem][]; start: number; end: number; indefinite?: boolean }
  | { major: 'tag'; tag: number | bigint; item: CborItem; start: number; end: number }
  | { major: 'simple'; value: number | boolean | null | undefined; start: number; end: number }
  | { major: 'float'; value: number; start: number; end: number };

export type ReadResult =
  | { ok: true; item: CborItem; end: number }
  | { ok: false; needMore: true }
  | { ok: false; needMore: false; error: string; offset: number };

const MAX_DEPTH = 16;
/** Longer strings or arrays than any Victron message can hold: treated as garbage, not waited for. */
const MAX_LENGTH = 1 << 16;

class NeedMore {}
class Malformed {
  constructor(
    readonly error: string,
    readonly offset: number,
  ) {}
}
const NEED_MORE = new NeedMore();

const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const utf8 = new TextDecoder('utf-8', { fatal: false });

function readArg(buf: Uint8Array, pos: number, ai: number): [number | bigint, number] {
  if (ai < 24) return [ai, pos];
  const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
  if (n === 0) throw new Malformed(`reserved additional information ${ai}`, pos - 1);
  if (pos + n > buf.length) throw NEED_MORE;
  let v = 0;
  if (n < 8) {
    for (let i = 0; i < n; i++) v = v * 256 + buf[pos + i]!;
    return [v, pos + n];
  }
  let big = 0n;
  for (let i = 0; i < 8; i++) big = (big << 8n) | BigInt(buf[pos + i]!);
  return [big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big, pos + 8];
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function item(buf: Uint8Array, start: number, depth: number): CborItem {
  if (depth > MAX_DEPTH) throw new Malformed(`nesting deeper than ${MAX_DEPTH}`, start);
  if (start >= buf.length) throw NEED_MORE;
  const ib = buf[start]!;
  const major = ib >> 5;
  const ai = ib & 0x1f;
  let pos = start + 1;
  if (ai === 31) {
    // Indefinite length: strings in chunks of their own type, arrays/maps until a break (0xff).
    if (major === 2 || major === 3) {
      const chunks: Uint8Array[] = [];
      for (;;) {
        if (pos >= buf.length) throw NEED_MORE;
        if (buf[pos] === 0xff) {
          pos++;
          break;
        }
        const c = item(buf, pos, depth + 1);
        if (c.major !== (major === 2 ? 'bytes' : 'text')) throw new Malformed('indefinite string chunk of another type', pos);
        chunks.push(c.major === 'bytes' ? c.value : new TextEncoder().encode(c.value as string));
        pos = c.end;
      }
      const total = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        total.set(c, o);
        o += c.length;
      }
      return major === 2 ? { major: 'bytes', value: total, start, end: pos, indefinite: true } : { major: 'text', value: utf8.decode(total), start, end: pos, indefinite: true };
    }
    if (major === 4) {
      const items: CborItem[] = [];
      for (;;) {
        if (pos >= buf.length) throw NEED_MORE;
        if (buf[pos] === 0xff) return { major: 'array', items, start, end: pos + 1, indefinite: true };
        if (items.length >= MAX_LENGTH) throw new Malformed('indefinite array too long', start);
        const c = item(buf, pos, depth + 1);
        items.push(c);
        pos = c.end;
      }
    }
    if (major === 5) {
      const entries: [CborItem, CborItem][] = [];
      for (;;) {
        if (pos >= buf.length) throw NEED_MORE;
        if (buf[pos] === 0xff) return { major: 'map', entries, start, end: pos + 1, indefinite: true };
        const k = item(buf, pos, depth + 1);
        const v = item(buf, k.end, depth + 1);
        entries.push([k, v]);
        pos = v.end;
      }
    }
    if (major === 7) throw new Malformed('unexpected break (0xff)', start);
    throw new Malformed(`indefinite length is not allowed for major type ${major}`, start);
  }
  if (major === 7) {
    if (ai === 25 || ai === 26 || ai === 27) {
      const n = ai === 25 ? 2 : ai === 26 ? 4 : 8;
      if (pos + n > buf.length) throw NEED_MORE;
      const dv = new DataView(buf.buffer, buf.byteOffset + pos, n);
      const value = n === 2 ? halfToFloat(dv.getUint16(0)) : n === 4 ? dv.getFloat32(0) : dv.getFloat64(0);
      return { major: 'float', value, start, end: pos + n };
    }
    if (ai >= 28) throw new Malformed(`reserved simple value encoding 0x${hex2(ib)}`, start);
    const [v, p] = readArg(buf, pos, ai);
    const n = Number(v);
    const value = n === 20 ? false : n === 21 ? true : n === 22 ? null : n === 23 ? undefined : n;
    return { major: 'simple', value, start, end: p };
  }
  const [arg, p] = readArg(buf, pos, ai);
  pos = p;
  switch (major) {
    case 0:
      return { major: 'uint', value: arg, start, end: pos };
    case 1:
      return { major: 'nint', value: typeof arg === 'bigint' ? -1n - arg : -1 - arg, start, end: pos };
    case 2:
    case 3: {
      const len = Number(arg);
      if (len > MAX_LENGTH) throw new Malformed(`string of ${len} bytes is longer than any message`, start);
      if (pos + len > buf.length) throw NEED_MORE;
      const bytes = buf.subarray(pos, pos + len);
      return major === 2 ? { major: 'bytes', value: bytes, start, end: pos + len } : { major: 'text', value: utf8.decode(bytes), start, end: pos + len };
    }
    case 4: {
      const len = Number(arg);
      if (len > MAX_LENGTH) throw new Malformed(`array of ${len} items is longer than any message`, start);
      const items: CborItem[] = [];
      for (let i = 0; i < len; i++) {
        const c = item(buf, pos, depth + 1);
        items.push(c);
        pos = c.end;
      }
      return { major: 'array', items, start, end: pos };
    }
    case 5: {
      const len = Number(arg);
      if (len > MAX_LENGTH) throw new Malformed(`map of ${len} entries is longer than any message`, start);
      const entries: [CborItem, CborItem][] = [];
      for (let i = 0; i < len; i++) {
        const k = item(buf, pos, depth + 1);
        const v = item(buf, k.end, depth + 1);
        entries.push([k, v]);
        pos = v.end;
      }
      return { major: 'map', entries, start, end: pos };
    }
    default: {
      const inner = item(buf, pos, depth + 1);
      return { major: 'tag', tag: arg, item: inner, start, end: inner.end };
    }
  }
}

/** Reads one item at `offset`: the item, "need more bytes", or an error with the offending offset. */
export function readItem(buf: Uint8Array, offset: number): ReadResult {
  try {
    const it = item(buf, offset, 0);
    return { ok: true, item: it, end: it.end };
  } catch (e) {
    if (e === NEED_MORE) return { ok: false, needMore: true };
    if (e instanceof Malformed) return { ok: false, needMore: false, error: `${e.error} (byte 0x${hex2(buf[e.offset] ?? 0)} at offset ${e.offset})`, offset: e.offset };
    throw e;
  }
}

/** CBOR diagnostic-ish notation for display of parameters we don't interpret. */
export function cborToJs(it: CborItem): unknown {
  switch (it.major) {
    case 'uint':
    case 'nint':
      return typeof it.value === 'bigint' ? it.value.toString() : it.value;
    case 'bytes':
      return Buffer.from(it.value).toString('hex');
    case 'text':
    case 'float':
    case 'simple':
      return it.value ?? null;
    case 'array':
      return it.items.map(cborToJs);
    case 'map':
      return it.entries.map(([k, v]) => [cborToJs(k), cborToJs(v)]);
    case 'tag':
      return { tag: String(it.tag), value: cborToJs(it.item) };
  }
}
