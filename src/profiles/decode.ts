/**
 * Register values by their definition: little-endian integers of the declared size and sign,
 * scale and unit, special values ("not available"), enum labels, bit fields, strings and fixed
 * records (several fields, e.g. the MPPT day history). Bytes that do not fit the definition give
 * `problem` and a null value, never a guess.
 */
import type { DecodedValue, RegisterDef, RegisterField, ScalarType } from './types.js';
import { formatProductId } from './products.js';
import { toHex as hex } from '../util/cursor.js';

const SIZES: Record<ScalarType, number> = { un8: 1, sn8: 1, un16: 2, sn16: 2, un24: 3, sn24: 3, un32: 4, sn32: 4, un64: 8, sn64: 8, float: 4 };


/** Decimal places implied by a scale: 0.01 -> 2, 0.1 -> 1, 1 -> 0, 0.001 -> 3, 0.25 -> 2. */
export function scaleDecimals(scale: number | undefined): number {
  if (!scale || scale >= 1) return 0;
  const s = String(scale);
  const m = /e-(\d+)$/.exec(s);
  if (m) return Number(m[1]);
  return (s.split('.')[1] ?? '').length;
}

function readInt(b: Uint8Array, o: number, type: ScalarType): number {
  const n = SIZES[type];
  if (type === 'float') return new DataView(b.buffer, b.byteOffset + o, 4).getFloat32(0, true);
  if (n === 8) {
    const v = new DataView(b.buffer, b.byteOffset + o, 8);
    const big = type === 'sn64' ? v.getBigInt64(0, true) : v.getBigUint64(0, true);
    return Number(big);
  }
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[o + i]!;
  if (type.startsWith('sn') && v >= 2 ** (8 * n - 1)) v -= 2 ** (8 * n);
  return v;
}

/** The number of bytes a definition needs (undefined = open-ended: a trailing string or bytes field). */
export function registerSize(def: RegisterDef): number | undefined {
  let bits = 0;
  for (const f of def.fields) {
    if (f.type === 'bits') bits += f.width ?? 1;
    else if (f.type === 'string' || f.type === 'bytes') {
      if (f.size === undefined) return undefined;
      bits = Math.ceil(bits / 8) * 8 + f.size * 8;
    } else bits = Math.ceil(bits / 8) * 8 + SIZES[f.type] * 8;
  }
  return Math.ceil(bits / 8);
}

interface FieldValue {
  value: number | string | null;
  text: string;
}

const h4 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(4, '0');

function scalarValue(f: RegisterField, raw: number): FieldValue {
  const key = String(raw);
  if (f.special?.[key] !== undefined) return { value: null, text: f.special[key]! };
  if (f.enum?.[key] !== undefined) return { value: raw, text: f.enum[key]! };
  // The value stays the number; only the text shows it as a product or register id.
  if (f.format === 'productId') return { value: raw, text: formatProductId(raw) };
  if (f.format === 'register') return { value: raw, text: h4(raw) };
  if (f.bits) {
    const names = Object.entries(f.bits).filter(([bit]) => raw & (1 << Number(bit))).map(([, n]) => n);
    return { value: raw, text: names.length ? names.join(', ') : 'none' };
  }
  const d = scaleDecimals(f.scale);
  const value = f.scale ? Number((raw * f.scale).toFixed(d)) : raw;
  const num = f.scale ? value.toFixed(d) : String(value);
  return { value, text: f.unit ? `${num} ${f.unit}` : num };
}

function decodeField(f: RegisterField, b: Uint8Array, state: { byte: number; bit: number }): FieldValue | 'short' {
  if (f.type === 'bits') {
    const width = f.width ?? 1;
    let v = 0;
    for (let i = 0; i < width; i++) {
      const abs = state.byte * 8 + state.bit + i;
      const byte = abs >> 3;
      if (byte >= b.length) return 'short';
      if (b[byte]! & (1 << (abs & 7))) v += 2 ** i;
    }
    const abs = state.byte * 8 + state.bit + width;
    state.byte = abs >> 3;
    state.bit = abs & 7;
    return scalarValue(f, v);
  }
  if (state.bit) {
    state.byte++;
    state.bit = 0;
  }
  if (f.type === 'string' || f.type === 'bytes') {
    const end = f.size === undefined ? b.length : state.byte + f.size;
    if (end > b.length) return 'short';
    const part = b.subarray(state.byte, end);
    state.byte = end;
    if (f.type === 'bytes') return { value: hex(part), text: hex(part) };
    const nul = part.indexOf(0);
    const str = part.subarray(0, nul >= 0 ? nul : part.length);
    // Bytes that are not printable UTF-8 (ids, MAC addresses, keys) are shown as hex, never as mojibake.
    const s = f.format === 'hex' ? undefined : printableUtf8(str);
    if (s === undefined) return { value: hex(part), text: '0x' + hex(part) };
    return { value: s, text: JSON.stringify(s) };
  }
  const n = SIZES[f.type];
  if (state.byte + n > b.length) return 'short';
  const raw = readInt(b, state.byte, f.type);
  state.byte += n;
  return scalarValue(f, raw);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of `b` when it is valid UTF-8 without control characters (C0, DEL, C1); otherwise undefined. */
export function printableUtf8(b: Uint8Array): string | undefined {
  let s: string;
  try {
    s = utf8.decode(b);
  } catch {
    return undefined;
  }
  return /[\u0000-\u001f\u007f-\u009f\ufffd]/.test(s) ? undefined : s;
}

/** A one-bit field labelled No/Yes (velib's flag bits). */
function isFlag(f: RegisterField): boolean {
  return f.type === 'bits' && (f.width ?? 1) === 1 && f.enum?.['0'] === 'No' && f.enum?.['1'] === 'Yes';
}

const sizeCache = new WeakMap<RegisterDef, number | undefined>();

export function decodeRegisterValue(def: RegisterDef | undefined, bytes: Uint8Array): DecodedValue {
  if (!def) return { value: null, text: hex(bytes) };
  let size = sizeCache.get(def);
  if (size === undefined && !sizeCache.has(def)) {
    size = registerSize(def);
    sizeCache.set(def, size);
  }
  if (def.fields.length === 1) {
    // Fast path for the common case, a single scalar of the right size.
    const f = def.fields[0]!;
    if (f.type !== 'bits' && f.type !== 'string' && f.type !== 'bytes' && bytes.length === SIZES[f.type]) {
      const v = scalarValue(f, readInt(bytes, 0, f.type));
      return f.unit ? { value: v.value, text: v.text, unit: f.unit } : { value: v.value, text: v.text };
    }
  }
  const state = { byte: 0, bit: 0 };
  const values: [RegisterField, FieldValue | null][] = [];
  let short = false;
  for (const f of def.fields) {
    const v = short ? 'short' : decodeField(f, bytes, state);
    if (v === 'short') short = true;
    values.push([f, v === 'short' ? null : v]);
  }
  const used = state.byte + (state.bit ? 1 : 0);
  let problem: string | undefined;
  if (short || (size !== undefined && bytes.length !== size) || (size === undefined && used > bytes.length)) {
    problem = `expected ${size ?? 'at least ' + used} byte(s) for ${def.name}, got ${bytes.length}`;
  }
  if (def.fields.length === 1) {
    const [f, v] = values[0]!;
    if (problem || !v) return { value: null, text: hex(bytes), problem: problem ?? 'no value', ...(f.unit ? { unit: f.unit } : {}) };
    return { value: v.value, text: v.text, ...(f.unit ? { unit: f.unit } : {}) };
  }
  // A record: one entry per field; repeated names get a number so none is lost.
  const obj: Record<string, unknown> = {};
  const texts: string[] = [];
  const counts = new Map<string, number>();
  // Flag records (every field one bit, No/Yes) read as the list of flags that are set.
  const flags = values.every(([f]) => isFlag(f) || /^(reserved|rest$)/i.test(f.name));
  for (const [f, v] of values) {
    const c = (counts.get(f.name) ?? 0) + 1;
    counts.set(f.name, c);
    const name = c > 1 ? `${f.name} ${c}` : f.name;
    obj[name] = v ? v.value : null;
    if (!v || /^(reserved|rest$)/i.test(f.name)) continue;
    if (flags) {
      if (v.value === 1) texts.push(name);
    } else texts.push(`${name}=${v.text}`);
  }
  if (flags && !texts.length) texts.push('none');
  if (problem && short) return { value: null, text: hex(bytes), problem };
  return { value: obj, text: texts.join(', '), ...(problem ? { problem } : {}) };
}
