/**
 * Register values by their definition: little-endian integers of the declared size and sign,
 * scale and unit, special values ("not available"), enum labels, bit fields, strings and fixed
 * records (several fields, e.g. the MPPT day history). Bytes that do not fit the definition give
 * `problem` and a null value, never a guess.
 */
import type { DecodedValue, RegisterDef, RegisterField, ScalarType } from './types.js';
import { toHex as hex } from '../util/cursor.js';

const SIZES: Record<ScalarType, number> = { un8: 1, sn8: 1, un16: 2, sn16: 2, un24: 3, sn24: 3, un32: 4, sn32: 4, un64: 8, sn64: 8, float: 4 };


/** Decimal places implied by a scale: 0.01 -> 2, 0.1 -> 1, 1 -> 0, 0.001 -> 3, 0.25 -> 2. */
export function scaleDecimals(scale: number | undefined): number {
  if (!scale || scale >= 1) return 0;
  let d = decimals.get(scale);
  if (d === undefined) {
    const s = String(scale);
    const m = /e-(\d+)$/.exec(s);
    d = m ? Number(m[1]) : (s.split('.')[1] ?? '').length;
    decimals.set(scale, d);
  }
  return d;
}
/** Per scale (a few dozen distinct ones): computed once, not per value. */
const decimals = new Map<number, number>();

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * Number(x.toFixed(d)), without making and parsing a string (toFixed is most of a value's cost):
 * k / 10^d is the same double when k, the integer nearest x * 10^d, is clear of a tie. Near a tie,
 * or beyond 2^40, toFixed decides.
 */
export function roundTo(x: number, d: number): number {
  if (d < POW10.length) {
    const m = POW10[d]!;
    const y = x * m;
    const k = Math.round(y);
    // Zero keeps toFixed's sign: "-0.00" for a negative x parses as -0.
    if (Math.abs(y) < 2 ** 40 && Math.abs(y - k) < 0.499) return k === 0 ? (x < 0 ? -0 : 0) : k / m;
  }
  return Number(x.toFixed(d));
}

function readInt(b: Uint8Array, o: number, type: ScalarType): number {
  // The common sizes first, without a table lookup or string test per value.
  switch (type) {
    case 'un8':
      return b[o]!;
    case 'un16':
      return b[o]! | (b[o + 1]! << 8);
    case 'sn16':
      return ((b[o]! | (b[o + 1]! << 8)) << 16) >> 16;
    case 'un32':
      return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
    case 'sn32':
      return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
  }
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

/** What a field holds before its definition interprets it: the integer of a scalar or bit field, or the bytes of a string/bytes field. */
export type FieldRaw = number | Uint8Array;

/**
 * The value of a scalar or bit field: null for a special raw value ("not available"); the raw integer
 * for enums, bit fields and ids shown as products or registers; otherwise scaled (rounded to the
 * scale's decimals).
 */
export function scalarFieldValue(f: RegisterField, raw: number): number | null {
  // Indexed by the number itself: the same key as String(raw), without making the string.
  if (f.special !== undefined && f.special[raw] !== undefined) return null;
  if (f.scale && !(f.enum !== undefined && f.enum[raw] !== undefined) && f.format !== 'productId' && f.format !== 'register' && !f.bits) {
    return roundTo(raw * f.scale, scaleDecimals(f.scale));
  }
  return raw;
}

/** The value of a field: scalar (see scalarFieldValue), hex of bytes, or a string (hex when not printable UTF-8 or `format: hex`). */
export function fieldValue(f: RegisterField, raw: FieldRaw): number | string | null {
  if (typeof raw === 'number') return scalarFieldValue(f, raw);
  if (f.type === 'bytes') return hex(raw);
  const s = fieldString(f, raw);
  return s === undefined ? hex(raw) : s;
}

/** A string field's text (up to its first NUL), or undefined when shown as hex: bytes that are not printable UTF-8 (ids, MAC addresses, keys), never mojibake. */
export function fieldString(f: RegisterField, part: Uint8Array): string | undefined {
  if (f.format === 'hex') return undefined;
  const nul = part.indexOf(0);
  return printableUtf8(part.subarray(0, nul >= 0 ? nul : part.length));
}

function readField(f: RegisterField, b: Uint8Array, state: { byte: number; bit: number }): FieldRaw | 'short' {
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
    return v;
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
    return part;
  }
  const n = SIZES[f.type];
  if (state.byte + n > b.length) return 'short';
  const raw = readInt(b, state.byte, f.type);
  state.byte += n;
  return raw;
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
export function isFlag(f: RegisterField): boolean {
  return f.type === 'bits' && (f.width ?? 1) === 1 && f.enum?.['0'] === 'No' && f.enum?.['1'] === 'Yes';
}

/** Fields whose value is not shown in a record's summary. */
export const isReservedField = (f: RegisterField): boolean => /^(reserved|rest$)/i.test(f.name);

const sizeCache = new WeakMap<RegisterDef, number | undefined>();

/** A register value's fields as read by its definition (the layer under decodeRegisterValue and the formatters' text). */
export interface RegisterFields {
  /** Per field of the definition: its raw content, null when the bytes ended before it. */
  raws: (FieldRaw | null)[];
  /** The bytes ended inside a field. */
  short: boolean;
  /** Set when the bytes do not fit the definition (too few, or not the size it declares). */
  problem?: string;
}

/** True when `def` is one scalar field of exactly the size of `bytes` (the common case: read without walking fields). */
export function isPlainScalar(def: RegisterDef, bytes: Uint8Array): boolean {
  if (def.fields.length !== 1) return false;
  const f = def.fields[0]!;
  return f.type !== 'bits' && f.type !== 'string' && f.type !== 'bytes' && bytes.length === SIZES[f.type];
}

/** The integer of a plain scalar register (see isPlainScalar). */
export function plainScalarRaw(def: RegisterDef, bytes: Uint8Array): number {
  return readInt(bytes, 0, def.fields[0]!.type as ScalarType);
}

/** What the hot path needs of a register that is one scalar field, worked out once per definition. */
export interface ScalarPlan {
  field: RegisterField;
  type: ScalarType;
  /** Bytes of the value. */
  size: number;
  /** The value is the raw integer times `scale`, rounded to `decimals` (else the raw integer). */
  scaled: boolean;
  scale: number;
  decimals: number;
  /** Raw values with a label (special or enum) lie in [labelMin, labelMax]; outside it, no lookup is needed. */
  labelMin: number;
  labelMax: number;
}

const plans = new WeakMap<RegisterDef, ScalarPlan | null>();

/** The plan of a one-scalar register (undefined for records, bit fields, strings and bytes). */
export function scalarPlan(def: RegisterDef): ScalarPlan | undefined {
  let p = plans.get(def);
  if (p === undefined) {
    p = null;
    const f = def.fields[0];
    if (def.fields.length === 1 && f !== undefined && f.type !== 'bits' && f.type !== 'string' && f.type !== 'bytes') {
      const keys = [...Object.keys(f.special ?? {}), ...Object.keys(f.enum ?? {})].map(Number);
      // A key that is not a plain number: every value is looked up.
      const odd = keys.some((k) => !Number.isFinite(k));
      p = {
        field: f,
        type: f.type,
        size: SIZES[f.type],
        scaled: !!f.scale && f.format !== 'productId' && f.format !== 'register' && !f.bits,
        scale: f.scale ?? 1,
        decimals: scaleDecimals(f.scale),
        labelMin: odd ? -Infinity : keys.length ? Math.min(...keys) : Infinity,
        labelMax: odd ? Infinity : keys.length ? Math.max(...keys) : -Infinity,
      };
    }
    plans.set(def, p);
  }
  return p ?? undefined;
}

/** The raw integer of a value of `plan.size` bytes. */
export function planRaw(plan: ScalarPlan, bytes: Uint8Array): number {
  return readInt(bytes, 0, plan.type);
}

/** scalarFieldValue(plan.field, raw), without label lookups for raw values no label can have. */
export function planValue(plan: ScalarPlan, raw: number): number | null {
  if (raw < plan.labelMin || raw > plan.labelMax) return plan.scaled ? roundTo(raw * plan.scale, plan.decimals) : raw;
  return scalarFieldValue(plan.field, raw);
}

export function readRegisterFields(def: RegisterDef, bytes: Uint8Array): RegisterFields {
  let size = sizeCache.get(def);
  if (size === undefined && !sizeCache.has(def)) {
    size = registerSize(def);
    sizeCache.set(def, size);
  }
  const state = { byte: 0, bit: 0 };
  const raws: (FieldRaw | null)[] = [];
  let short = false;
  for (const f of def.fields) {
    const v = short ? 'short' : readField(f, bytes, state);
    if (v === 'short') short = true;
    raws.push(v === 'short' ? null : v);
  }
  const used = state.byte + (state.bit ? 1 : 0);
  if (short || (size !== undefined && bytes.length !== size) || (size === undefined && used > bytes.length)) {
    return { raws, short, problem: `expected ${size ?? 'at least ' + used} byte(s) for ${def.name}, got ${bytes.length}` };
  }
  return { raws, short };
}

/**
 * A register value by its definition: a number, string, or a record object (one entry per field;
 * repeated names get a number so none is lost). The text people read is made by the formatters
 * (`registerText` in output/), from the same fields.
 */
export function decodeRegisterValue(def: RegisterDef | undefined, bytes: Uint8Array): DecodedValue {
  if (!def) return { value: null };
  const f0 = def.fields[0];
  if (isPlainScalar(def, bytes)) {
    const value = scalarFieldValue(f0!, plainScalarRaw(def, bytes));
    return f0!.unit ? { value, unit: f0!.unit } : { value };
  }
  const r = readRegisterFields(def, bytes);
  if (def.fields.length === 1) {
    const raw = r.raws[0];
    if (r.problem || raw === null || raw === undefined) return { value: null, problem: r.problem ?? 'no value', ...(f0!.unit ? { unit: f0!.unit } : {}) };
    return { value: fieldValue(f0!, raw), ...(f0!.unit ? { unit: f0!.unit } : {}) };
  }
  if (r.problem && r.short) return { value: null, problem: r.problem };
  const obj: Record<string, unknown> = {};
  const counts = new Map<string, number>();
  def.fields.forEach((f, i) => {
    const c = (counts.get(f.name) ?? 0) + 1;
    counts.set(f.name, c);
    const raw = r.raws[i];
    obj[c > 1 ? `${f.name} ${c}` : f.name] = raw === null || raw === undefined ? null : fieldValue(f, raw);
  });
  return { value: obj, ...(r.problem ? { problem: r.problem } : {}) };
}
