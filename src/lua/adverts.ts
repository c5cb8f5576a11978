/**
 * The Instant Readout part of the generated dissector: tables from src/adverts/records.json (the
 * record layouts `vgatt adverts` decodes with) and src/profiles/products.json, then the runtime
 * src/lua/adverts.lua verbatim, all in one `do ... end` block appended to the dissector so that it
 * stays apart from the GATT part (its own locals, no shared state).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordTable, type RecordTable, type ValueDef } from '../adverts/records.js';
import { allProducts } from '../profiles/products.js';

const RUNTIME = path.join(path.dirname(fileURLToPath(import.meta.url)), 'adverts.lua');

type Kind = 'number' | 'enum' | 'flags' | 'hex';

function decimals(x: number): number {
  const s = String(Math.abs(x));
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

const snake = (id: string) => id.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const hex = (n: number, w = 2) => '0x' + n.toString(16).toUpperCase().padStart(w, '0');

function scalar(v: ValueDef, lua: (s: string) => string): string[] {
  const p: string[] = [];
  if (v.signed) p.push('signed = true');
  if (v.scale !== undefined && v.scale !== 1) p.push(`k = ${v.scale}`);
  if (v.offset) p.push(`o = ${v.offset}`);
  const d = Math.max(decimals(v.scale ?? 1), decimals(v.offset ?? 0));
  if (d) p.push(`d = ${d}`);
  if (v.unit) p.push(`u = ${lua(v.unit)}`);
  if (v.na !== undefined) p.push(`na = ${hex(v.na)}`);
  if (v.special) p.push(`sp = { ${Object.entries(v.special).map(([k, t]) => `[${hex(Number(k))}] = ${lua(t)}`).join(', ')} }`);
  return p;
}

export function generateAdvertsLua(luaString: (s: string) => string, table: RecordTable = recordTable()): string {
  const L: string[] = [];
  L.push('');
  L.push('-- =============================================================================================');
  L.push('-- Instant Readout advertisements (generated from src/adverts/records.json and src/profiles/products.json');
  L.push('-- by src/lua/adverts.ts; runtime src/lua/adverts.lua). Set the preference victron.keys to decode them.');
  L.push('-- =============================================================================================');
  L.push('do');
  // One Wireshark field per record field id, typed by what the id holds in every record.
  const fields = new Map<string, { name: string; kind: Kind }>();
  const note = (id: string, name: string, kind: Kind) => {
    const had = fields.get(id);
    if (had && had.kind !== kind) throw new Error(`records.json: field id '${id}' is a ${had.kind} in one record and a ${kind} in another`);
    if (!had) fields.set(id, { name, kind });
  };
  const lines: string[] = [];
  for (const rec of [...table.records.values()].sort((a, b) => a.type - b.type)) {
    lines.push(`IR_RECORDS[${hex(rec.type)}] = { name = ${luaString(rec.name)}, fields = {`);
    for (const f of rec.fields) {
      const p = [`id = ${luaString(f.id)}`, `name = ${luaString(f.name)}`, `start = ${f.start}`, `bits = ${f.bits}`];
      if (f.enum) {
        p.push(`en = ${luaString(f.enum)}`);
        if (f.signed) p.push('signed = true');
        if (f.na !== undefined) p.push(`na = ${hex(f.na)}`);
        note(f.id, f.name, 'enum');
      } else if (f.flags) {
        p.push(`fl = ${luaString(f.flags)}`);
        note(f.id, f.name, 'flags');
      } else if (f.format === 'hex') {
        p.push('hex = true');
        note(f.id, f.name, 'hex');
      } else if (f.switch) {
        p.push(`sw = ${luaString(f.switch)}`);
        const cases = Object.entries(f.cases ?? {}).map(([k, c]) => {
          note(c.id, c.name, 'number');
          return `[${k}] = { ${[`id = ${luaString(c.id)}`, `name = ${luaString(c.name)}`, ...scalar(c, luaString)].join(', ')} }`;
        });
        p.push(`cases = { ${cases.join(', ')} }`);
      } else {
        p.push(...scalar(f, luaString));
        note(f.id, f.name, 'number');
      }
      lines.push(`  { ${p.join(', ')} },`);
    }
    lines.push('} }');
  }
  L.push(`-- Record layouts (${table.records.size}): fields with their start bit and size in the decrypted record,`);
  L.push('-- scale k, offset o, decimals d, unit u, not-available raw value na, special values sp, enum en, flags fl.');
  L.push('local IR_RECORDS = {}');
  L.push(...lines);
  L.push('local IR_ENUMS = {');
  for (const [name, e] of Object.entries(table.enums)) L.push(`  ${name} = { ${Object.entries(e.values).map(([k, v]) => `[${k}] = ${luaString(v)}`).join(', ')} },`);
  L.push('}');
  L.push('local IR_FLAGS = {');
  for (const [name, f] of Object.entries(table.flags)) L.push(`  ${name} = { none = ${luaString(f.none)}, bits = { ${Object.entries(f.bits).map(([k, v]) => `[${k}] = ${luaString(v)}`).join(', ')} } },`);
  L.push('}');
  L.push('-- One filter field per record field id: victron.ir.<id in snake case>.');
  L.push('local IR_FIELDS = {');
  for (const [id, d] of [...fields].sort((a, b) => a[0].localeCompare(b[0]))) L.push(`  ${id} = { abbr = ${luaString(snake(id))}, name = ${luaString(d.name)}, kind = ${luaString(d.kind)} },`);
  L.push('}');
  L.push('local IR_PRODUCTS = {');
  for (const p of allProducts()) L.push(`  [${hex(p.id, 4)}] = ${luaString(p.name)},`);
  L.push('}');
  L.push(readFileSync(RUNTIME, 'utf8').trimEnd());
  L.push('end');
  L.push('');
  return L.join('\n');
}
