/**
 * Instant Readout record layouts as data (records.json, validated by records.schema.json with ajv)
 * and the one interpreter of them. A new record type is one entry in records.json: the TypeScript
 * decoder here and the generated Lua dissector both read it.
 *
 * Bits are read least significant first from the decrypted payload (the document's start bit 32 is
 * payload bit 0), fields one after the other. A field the payload does not hold entirely is left
 * out (the document: "a length check should be performed for all items").
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSchema } from '../util/schema.js';

export interface ValueDef {
  id: string;
  name: string;
  signed?: boolean;
  scale?: number;
  offset?: number;
  unit?: string;
  /** The raw bit pattern meaning "not available". */
  na?: number;
  /** Raw values with a meaning of their own (value null, text given). */
  special?: Record<number, string>;
}

export interface FieldDef extends ValueDef {
  bits: number;
  /** Bit offset in the payload (computed: the sum of the previous fields' sizes). */
  start: number;
  enum?: string;
  flags?: string;
  format?: 'hex';
  /** This field's meaning depends on the raw value of field `switch` (aux input). */
  switch?: string;
  cases?: Record<number, ValueDef>;
}

export interface RecordDef {
  type: number;
  id: string;
  name: string;
  source: string;
  note?: string;
  provisional?: boolean;
  fields: FieldDef[];
}

export interface RecordTable {
  source: string;
  enums: Record<string, { source: string; values: Record<string, string> }>;
  flags: Record<string, { source: string; none: string; bits: Record<string, string> }>;
  records: Map<number, RecordDef>;
}

/** One decoded field. */
export interface ReadoutField {
  id: string;
  name: string;
  /** The field's bits as an unsigned number. */
  raw: number;
  /** Scaled number, enum name, list of set flag names, or null (not available / special). */
  value: number | string | string[] | null;
  unit?: string;
  /** Readable value: "13.88 V", "Absorption", "Low voltage, High voltage", "not available". */
  text: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const RECORDS_FILE = path.join(HERE, 'records.json');

export class RecordTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordTableError';
  }
}

const hex = (s: string | undefined): number | undefined => (s === undefined ? undefined : parseInt(s.slice(2), 16));

/** Reads and checks a record table (the shipped one by default). Errors name the JSON pointer. */
export function loadRecordTable(file = RECORDS_FILE): RecordTable {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const validate = compileSchema(JSON.parse(readFileSync(path.join(HERE, 'records.schema.json'), 'utf8')));
  if (!validate(data)) throw new RecordTableError((validate.errors ?? []).slice(0, 10).map((e) => `${file}: ${e.instancePath || '/'}: ${e.message}`).join('\n'));
  type RawValue = Omit<ValueDef, 'na' | 'special'> & { na?: string; special?: Record<string, string> };
  type RawField = RawValue & { bits: number; enum?: string; flags?: string; format?: 'hex'; switch?: string; cases?: Record<string, RawValue> };
  const raw = data as unknown as { source: string; enums: RecordTable['enums']; flags: RecordTable['flags']; records: { type: string; id: string; name: string; source: string; note?: string; provisional?: boolean; fields: RawField[] }[] };
  const value = (v: RawValue): ValueDef => {
    const out: ValueDef = { ...v, na: hex(v.na), special: undefined };
    if (v.na === undefined) delete out.na;
    if (v.special) out.special = Object.fromEntries(Object.entries(v.special).map(([k, t]) => [hex(k)!, t]));
    else delete out.special;
    return out;
  };
  const records = new Map<number, RecordDef>();
  raw.records.forEach((r, i) => {
    const where = `${file}: /records/${i}`;
    const type = hex(r.type)!;
    if (records.has(type)) throw new RecordTableError(`${where}/type: record type ${r.type} is defined twice`);
    let start = 0;
    const ids = new Set<string>();
    const fields = r.fields.map((f, j) => {
      const fw = `${where}/fields/${j}`;
      if (ids.has(f.id)) throw new RecordTableError(`${fw}/id: '${f.id}' is used twice in record ${r.id}`);
      ids.add(f.id);
      if (f.enum && !raw.enums[f.enum]) throw new RecordTableError(`${fw}/enum: no enum '${f.enum}'`);
      if (f.flags && !raw.flags[f.flags]) throw new RecordTableError(`${fw}/flags: no flags '${f.flags}'`);
      const na = hex(f.na);
      if (na !== undefined && na >= 2 ** f.bits) throw new RecordTableError(`${fw}/na: ${f.na} does not fit ${f.bits} bits`);
      const def: FieldDef = { ...value(f), bits: f.bits, start };
      if (f.enum) def.enum = f.enum;
      if (f.flags) def.flags = f.flags;
      if (f.format) def.format = f.format;
      if (f.switch) {
        def.switch = f.switch;
        def.cases = Object.fromEntries(Object.entries(f.cases ?? {}).map(([k, c]) => [Number(k), value(c)]));
      }
      start += f.bits;
      return def;
    });
    for (const [j, f] of fields.entries()) {
      if (f.switch && !fields.some((g) => g.id === f.switch)) throw new RecordTableError(`${where}/fields/${j}/switch: no field '${f.switch}' in record ${r.id}`);
    }
    const rec: RecordDef = { type, id: r.id, name: r.name, source: r.source, fields };
    if (r.note) rec.note = r.note;
    if (r.provisional) rec.provisional = true;
    records.set(type, rec);
  });
  return { source: raw.source, enums: raw.enums, flags: raw.flags, records };
}

let shipped: RecordTable | undefined;

/** The shipped table, loaded once. */
export function recordTable(): RecordTable {
  return (shipped ??= loadRecordTable());
}

/** `n` bits (at most 32) from bit `start`, least significant bit first; undefined when the payload is shorter. */
export function readBits(payload: Uint8Array, start: number, n: number): number | undefined {
  if (start + n > payload.length * 8) return undefined;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const b = start + i;
    if ((payload[b >> 3]! >> (b & 7)) & 1) v += 2 ** i;
  }
  return v;
}

function decimals(x: number): number {
  const s = String(Math.abs(x));
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

function numberField(def: ValueDef, raw: number, bits: number): { value: number | null; text: string } {
  if (def.na !== undefined && raw === def.na) return { value: null, text: 'not available' };
  const special = def.special?.[raw];
  if (special !== undefined) return { value: null, text: special };
  const n = def.signed && raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
  const scale = def.scale ?? 1;
  const offset = def.offset ?? 0;
  const d = Math.max(decimals(scale), decimals(offset));
  const value = Number((n * scale + offset).toFixed(d));
  return { value, text: def.unit ? `${value.toFixed(d)} ${def.unit}` : value.toFixed(d) };
}

export interface DecodedRecord {
  fields: ReadoutField[];
  /** Fields the payload was too short to hold. */
  missing: string[];
}

/** Decodes a decrypted payload by its record layout. */
export function decodeRecord(def: RecordDef, payload: Uint8Array, table: RecordTable = recordTable()): DecodedRecord {
  const raws = new Map<string, number>();
  const missing: string[] = [];
  for (const f of def.fields) {
    const v = readBits(payload, f.start, f.bits);
    if (v === undefined) missing.push(f.id);
    else raws.set(f.id, v);
  }
  const fields: ReadoutField[] = [];
  for (const f of def.fields) {
    const raw = raws.get(f.id);
    if (raw === undefined) continue;
    let vdef: ValueDef = f;
    if (f.switch) {
      const sel = raws.get(f.switch);
      const c = sel === undefined ? undefined : f.cases?.[sel];
      // No meaning for this selector (e.g. aux input "none"): the value is not shown.
      if (!c) continue;
      vdef = c;
    }
    const out: ReadoutField = { id: vdef.id, name: vdef.name, raw, value: null, text: '' };
    if (vdef.unit) out.unit = vdef.unit;
    if (f.na !== undefined && raw === f.na && (f.enum || f.flags || f.format)) {
      out.text = 'not available';
    } else if (f.enum) {
      const n = f.signed && raw >= 2 ** (f.bits - 1) ? raw - 2 ** f.bits : raw;
      const name = table.enums[f.enum]!.values[String(n)];
      out.value = name ?? n;
      out.text = name ?? `unknown (${n})`;
    } else if (f.flags) {
      const fl = table.flags[f.flags]!;
      const names: string[] = [];
      for (let b = 0; b < f.bits; b++) if (Math.floor(raw / 2 ** b) % 2 === 1) names.push(fl.bits[String(b)] ?? `bit ${b}`);
      out.value = names;
      out.text = names.length ? names.join(', ') : fl.none;
    } else if (f.format === 'hex') {
      out.value = raw;
      out.text = '0x' + raw.toString(16).toUpperCase().padStart(Math.ceil(f.bits / 4), '0');
    } else {
      const nf = numberField(vdef, raw, f.bits);
      out.value = nf.value;
      out.text = nf.text;
    }
    fields.push(out);
  }
  return { fields, missing };
}
