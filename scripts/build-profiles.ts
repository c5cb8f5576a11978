/**
 * Builds the shipped device profiles (src/profiles/*.json) from Victron's own register definitions
 * (../shared/data/registers.json, taken from velib's ve_regs.h) and the real traffic in
 * ../shared/data/payloads.json (which registers each app session uses, the init sequences).
 * Run: node --import tsx scripts/build-profiles.ts   (the JSON output is committed).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Profile, RegisterDef, RegisterField, ScalarType } from '../src/profiles/types.js';

const root = path.resolve(import.meta.dirname, '..');
const shared = path.resolve(root, '../shared/data');
const regsJson = JSON.parse(readFileSync(path.join(shared, 'registers.json'), 'utf8')) as {
  source: string;
  registers: { id: string; macro: string; title: string; fields: { type?: string; label?: string; scale?: number; unit?: string; values?: Record<string, string>; raw?: string }[] }[];
  chargerErrors: Record<string, { macro: string; label: string }>;
};
const payloads = JSON.parse(readFileSync(path.join(shared, 'payloads.json'), 'utf8')) as {
  groups: { device: string; source: string; writes?: { handle: number; hex: string; commentedOut: boolean }[]; notifications?: { handle: number | null; hex: string }[]; payloads?: { name: string; hex: string }[] }[];
};
const SRC = 'registers.json (victronenergy/gui-v2 3b94597, velib/inc/velib/ve_regs.h)';
const SCALARS = new Set(['un8', 'sn8', 'un16', 'sn16', 'un24', 'sn24', 'un32', 'sn32', 'un64', 'sn64', 'float']);

const num = (k: string) => (k.toLowerCase().startsWith('0x') ? parseInt(k, 16) : Number(k));
const SPECIAL = /not ?available|unavailable|^n\/?a$|invalid|unknown/i;

function convertField(f: { type?: string; label?: string; scale?: number; unit?: string; values?: Record<string, string>; raw?: string }): RegisterField | 'stop' {
  if (f.raw !== undefined) {
    const m = /^stringZeroEnded\[(\d+)\]\s*=\s*(.*)$/.exec(f.raw);
    if (m) return { name: m[2]!.trim() || 'text', type: 'string' };
    return 'stop';
  }
  const t = f.type ?? '';
  const name = (f.label ?? '').replace(/\s*\(see xml for meanings\)/, '') || 'value';
  let out: RegisterField;
  const bits = /^bits\[(\d+)\]$/.exec(t);
  const str = /^stringFixed\[(\d+)\]$/.exec(t);
  if (bits) out = { name, type: 'bits', width: Number(bits[1]) };
  else if (str) out = { name, type: 'string', size: Number(str[1]) };
  else if (SCALARS.has(t)) out = { name, type: t as ScalarType };
  else return 'stop';
  // registers.json has a few mis-parsed fields with scale 0 (e.g. VE_REG_TREND_PUSH_DATA): no scale, no unit there.
  if (f.scale !== undefined && f.scale !== 1 && f.scale !== 0) out.scale = f.scale;
  if (f.unit && f.scale !== 0) out.unit = f.unit;
  if (f.values) {
    const entries = Object.entries(f.values).map(([k, v]) => [String(num(k)), v] as const);
    // With a unit the field is a quantity: its listed values are special markers. Without, they are labels.
    const quantity = out.unit !== undefined || out.scale !== undefined;
    const special = Object.fromEntries(entries.filter(([, v]) => quantity || SPECIAL.test(v)));
    const labels = Object.fromEntries(entries.filter(([, v]) => !(quantity || SPECIAL.test(v))));
    if (Object.keys(special).length) out.special = special;
    if (Object.keys(labels).length) out.enum = labels;
  }
  return out;
}

function convert(r: (typeof regsJson.registers)[number]): RegisterDef {
  const fields: RegisterField[] = [];
  for (const f of r.fields) {
    const c = convertField(f);
    if (c === 'stop') {
      fields.push({ name: 'rest', type: 'bytes' });
      break;
    }
    fields.push(c);
  }
  // A zero-ended string takes the rest: velib's trailing padding byte is part of it.
  const si = fields.findIndex((f) => f.type === 'string' && f.size === undefined);
  if (si >= 0) fields.splice(si + 1);
  if (fields.length === 0) fields.push({ name: r.title, type: 'bytes' });
  if (fields.length === 1) fields[0]!.name = r.title;
  const title = r.title.replace(/\s*@remark.*$/, '').replace(/#$/, '').trim() || r.macro;
  if (fields.length === 1) fields[0]!.name = title;
  return { id: num(r.id), name: title, symbol: r.macro, fields, source: `${SRC}: ${r.macro}` };
}

// Later duplicate ids are aliases (e.g. 0xEEFF); keep the first definition that has fields.
const all = new Map<number, RegisterDef>();
for (const r of regsJson.registers) {
  const d = convert(r);
  const prev = all.get(d.id);
  if (!prev || (prev.fields.length === 1 && prev.fields[0]!.type === 'bytes' && !(d.fields.length === 1 && d.fields[0]!.type === 'bytes'))) {
    if (prev) d.description = `also defined as ${prev.symbol}`;
    all.set(d.id, d);
  } else if (prev.symbol !== d.symbol) {
    prev.description = prev.description ? `${prev.description}, ${d.symbol}` : `also defined as ${d.symbol}`;
  }
}
all.delete(0);

const chargerErrors = Object.fromEntries(Object.entries(regsJson.chargerErrors).map(([k, v]) => [k, v.label]));
const CHARGER_ERR_SRC = 'registers.json chargerErrors (velib/inc/velib/vecan/charger_error.h)';
// VE.Direct protocol document ("CS" / device state), the same numbering as VE_REG_DEVICE_STATE.
const DEVICE_STATES: Record<string, string> = {
  '0': 'Off', '1': 'Low power', '2': 'Fault', '3': 'Bulk', '4': 'Absorption', '5': 'Float', '6': 'Storage', '7': 'Equalize (manual)',
  '9': 'Inverting', '11': 'Power supply', '245': 'Starting-up', '246': 'Repeated absorption', '247': 'Auto equalize / Recondition',
  '248': 'BatterySafe', '252': 'External control', '255': 'Not available',
};
const STATES_SRC = 'VE.Direct Protocol (Victron), device state values';

/** A register of the common table, renamed for a device and with extra labels. */
function fromCommon(id: number, name?: string, extra: Partial<RegisterField> = {}, source?: string): RegisterDef {
  const base = all.get(id);
  if (!base) throw new Error(`register 0x${id.toString(16)} is not in registers.json`);
  const d: RegisterDef = structuredClone(base);
  if (name) {
    d.name = name;
    if (d.fields.length === 1) d.fields[0]!.name = name;
  }
  if (Object.keys(extra).length && d.fields.length >= 1) Object.assign(d.fields[0]!, extra);
  if (source) d.source = `${d.source}; ${source}`;
  return d;
}

// Common overrides: labels that ve_regs.h leaves to "the xml".
all.set(0x0201, fromCommon(0x0201, 'Device state', { enum: DEVICE_STATES }, STATES_SRC));
all.set(0xedda, fromCommon(0xedda, 'Charger error', { enum: chargerErrors }, CHARGER_ERR_SRC));
for (let day = 0x1050; day <= 0x106e; day++) {
  const d = all.get(day);
  if (d) for (const f of d.fields) if (/^Error \d$/.test(f.name)) f.enum = chargerErrors;
}

/** Registers a device's recorded traffic uses: get-values requests (05 i 81 19 hhll) and values (08 i 19 hhll). */
function registersSeen(device: string): Set<number> {
  const seen = new Set<number>();
  for (const g of payloads.groups) {
    if (g.device !== device && !(device === 'smartshunt' && g.device === 'various')) continue;
    // The mixed test-vector group holds Orion values on handle 0x1e (30): not the SmartShunt's.
    const notes = (g.notifications ?? []).filter((n) => g.device === device || n.handle !== 30);
    const hexes = [...(g.writes ?? []).map((w) => w.hex), ...notes.map((n) => n.hex), ...(g.payloads ?? []).map((p) => p.hex)];
    // Writes are pieces of one stream: join them so registers cut between pieces are found.
    const stream = hexes.join('');
    for (const m of stream.matchAll(/(?:05[0-9a-f]{2}81|08[0-9a-f]{2})19([0-9a-f]{4})/g)) seen.add(parseInt(m[1]!, 16));
    for (const m of stream.matchAll(/(?:05[0-9a-f]{2}81|08[0-9a-f]{2})18([0-9a-f]{2})/g)) seen.add(parseInt(m[1]!, 16));
  }
  return seen;
}

function initSequence(device: string, handles: { control: number; lastData: number; data: number }): Profile['initSequence'] {
  const g = payloads.groups.find((x) => x.device === device && x.writes);
  if (!g) return undefined;
  const role = (h: number) => (h === handles.control ? 'control' : h === handles.lastData ? 'lastData' : 'data') as 'control' | 'lastData' | 'data';
  return g.writes!.filter((w) => !w.commentedOut).map((w) => ({ role: role(w.handle), hex: w.hex }));
}

function deviceProfile(id: string, displayName: string, device: string, names: Record<number, string>, match: Profile['match'], extraIds: number[] = []): Profile {
  const ids = new Set([...registersSeen(device), ...Object.keys(names).map(Number), ...extraIds]);
  const registers: RegisterDef[] = [];
  for (const rid of [...ids].sort((a, b) => a - b)) {
    if (!all.has(rid)) continue;
    const src = registersSeen(device).has(rid) ? 'used in the recorded app traffic (payloads.json)' : undefined;
    registers.push(fromCommon(rid, names[rid], {}, src));
  }
  const h = match!.handles![0]!;
  return {
    id,
    displayName,
    extends: ['common'],
    match,
    registers,
    initSequence: initSequence(device, h),
    source: `registers.json + payloads.json (${payloads.groups.find((g) => g.device === device)?.source ?? 'payloads.json'})`,
  };
}

const UUID = (n: number, svc: string) => `306b000${n}-b081-4037-83dc-e59fcc3cdf${svc}`;
const common: Profile = {
  id: 'common',
  displayName: 'VE.Smart common (all Victron registers)',
  characteristics: {
    control: [UUID(2, 'd0'), UUID(2, 'd1')],
    lastData: [UUID(3, 'd0'), UUID(3, 'd1')],
    data: [UUID(4, 'd0'), UUID(4, 'd1')],
  },
  registers: [...all.values()].sort((a, b) => a.id - b.id),
  source: `${regsJson.source}`,
};

const smartshunt = deviceProfile(
  'smartshunt',
  'SmartShunt / BMV-712 battery monitor',
  'smartshunt',
  {
    0xed8d: 'Battery voltage', 0xed8f: 'Battery current', 0xed8c: 'Battery current (mA)', 0xed8e: 'Battery power', 0xed7d: 'Starter battery voltage',
    0x0fff: 'State of charge', 0x0ffe: 'Time to go', 0xeeff: 'Consumed Ah', 0x0382: 'Mid-point voltage', 0x0383: 'Mid-point deviation', 0xedec: 'Battery temperature',
  },
  { names: ['^SmartShunt', '^BMV'], productIds: [0xa389, 0xa38a, 0xa38b, 0xa381, 0xa382, 0xa383], handles: [{ control: 0x21, lastData: 0x24, data: 0x27 }] },
);
const orion = deviceProfile(
  'orion',
  'Orion Smart DC-DC charger',
  'orion',
  { 0xedbb: 'Input voltage', 0xed8d: 'Output voltage', 0xeddb: 'Charger temperature', 0x0201: 'Device state', 0xedda: 'Charger error', 0x0206: 'Device function', 0x0120: 'Uptime' },
  { names: ['^Orion'], productIds: [0xa3c0, 0xa3c8, 0xa3d0, 0xa3c1, 0xa3c2, 0xa3c3, 0xa3c4, 0xa3c5, 0xa3c9, 0xa3ca, 0xa3cb, 0xa3cc, 0xa3cd, 0xa3ce, 0xa3cf, 0xa3d1], handles: [{ control: 0x1b, lastData: 0x1e, data: 0x21 }, { control: 0x25, lastData: 0x28, data: 0x2b }] },
);
const dayIds = Array.from({ length: 31 }, (_, i) => 0x1050 + i);
const smartsolar = deviceProfile(
  'smartsolar',
  'SmartSolar MPPT solar charger',
  'smartsolar',
  { 0xedbb: 'Panel voltage', 0xedbd: 'Panel current', 0xedbc: 'Panel power', 0xed8d: 'Battery voltage', 0xed8f: 'Battery current', 0x0201: 'Device state', 0xedda: 'Charger error', 0xeda8: 'Load output status', 0xeda9: 'Load voltage', 0xedad: 'Load current', 0x0200: 'Device mode' },
  { names: ['^SmartSolar', '^Solar Charger', '^BlueSolar'], productIds: [0xa053, 0xa054, 0xa055, 0xa056, 0xa057, 0xa058, 0xa059, 0xa05a, 0xa05b, 0xa05c, 0xa05d, 0xa05e, 0xa05f, 0xa060, 0xa061], handles: [{ control: 0x21, lastData: 0x24, data: 0x27 }, { control: 0x1f, lastData: 0x22, data: 0x25 }] },
  [...dayIds, 0x104f],
);
// The solar payloads were recorded under the group name "SmartSolar MPPT ..." too.
for (const p of [common, smartshunt, orion, smartsolar]) {
  const file = path.join(root, 'src/profiles', `${p.id}.json`);
  const json = { $schema: './schema.json', ...p, registers: p.registers?.map((r) => ({ ...r, id: '0x' + r.id.toString(16).toUpperCase().padStart(4, '0') })) };
  writeFileSync(file, JSON.stringify(json, null, 1) + '\n');
  console.log(`${p.id}: ${p.registers?.length ?? 0} registers -> ${path.relative(root, file)}`);
}
