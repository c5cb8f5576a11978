/**
 * The text people read for a register value ("13.27 V", "Bulk", "not available", a record's
 * "Name=value, ..."), made from the definition and the bytes when a formatter prints it: decoding
 * (profiles/decode.ts) returns only the value, so a run that never prints the text never pays for it.
 */
import { fieldString, fieldValue, formatProductId, isFlag, isPlainScalar, isReservedField, plainScalarRaw, readRegisterFields, scalarFieldValue, scaleDecimals, type FieldRaw, type RegisterDef, type RegisterField } from '../profiles/index.js';
import { toHex as hex } from '../util/cursor.js';

const h4 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(4, '0');

/** The text of a scalar or bit field holding `raw`, whose value (scalarFieldValue) is `value`. */
export function scalarFieldText(f: RegisterField, raw: number, value: number | null = scalarFieldValue(f, raw)): string {
  if (f.special !== undefined || f.enum !== undefined) {
    // Indexed by the number itself: the same key as String(raw).
    const label = f.special?.[raw] ?? f.enum?.[raw];
    if (label !== undefined) return label;
  }
  if (f.format === 'productId') return formatProductId(raw);
  if (f.format === 'register') return h4(raw);
  if (f.bits) {
    const names = Object.entries(f.bits).filter(([bit]) => raw & (1 << Number(bit))).map(([, n]) => n);
    return names.length ? names.join(', ') : 'none';
  }
  const num = f.scale ? value!.toFixed(scaleDecimals(f.scale)) : String(value);
  return f.unit ? `${num} ${f.unit}` : num;
}

function fieldText(f: RegisterField, raw: FieldRaw): string {
  if (typeof raw === 'number') return scalarFieldText(f, raw);
  if (f.type === 'bytes') return hex(raw);
  const s = fieldString(f, raw);
  return s === undefined ? '0x' + hex(raw) : JSON.stringify(s);
}

/** The text of a register value: see the module comment; the bytes in hex when they do not fit the definition (or there is none). */
export function registerText(def: RegisterDef | undefined, bytes: Uint8Array): string {
  if (!def) return hex(bytes);
  if (isPlainScalar(def, bytes)) return scalarFieldText(def.fields[0]!, plainScalarRaw(def, bytes));
  const r = readRegisterFields(def, bytes);
  if (def.fields.length === 1) {
    const raw = r.raws[0];
    return r.problem || raw === null || raw === undefined ? hex(bytes) : fieldText(def.fields[0]!, raw);
  }
  if (r.problem && r.short) return hex(bytes);
  // A record: Name=text per field; flag records (every field one bit, No/Yes) read as the flags set.
  const texts: string[] = [];
  const counts = new Map<string, number>();
  const flags = def.fields.every((f) => isFlag(f) || isReservedField(f));
  def.fields.forEach((f, i) => {
    const c = (counts.get(f.name) ?? 0) + 1;
    counts.set(f.name, c);
    const name = c > 1 ? `${f.name} ${c}` : f.name;
    const raw = r.raws[i];
    if (raw === null || raw === undefined || isReservedField(f)) return;
    if (flags) {
      if (fieldValue(f, raw) === 1) texts.push(name);
    } else texts.push(`${name}=${fieldText(f, raw)}`);
  });
  if (flags && !texts.length) texts.push('none');
  return texts.join(', ');
}
