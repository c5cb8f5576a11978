import type { ControlInfo, VictronRecord } from '../victron/index.js';
import type { LinkDirection } from '../bluetooth/types.js';
import { registerText } from './registers.js';
import { planRaw, scalarPlan, type ScalarPlan } from '../profiles/index.js';
import { csvRow } from './csv.js';
import { jsonSafe } from './json.js';
import { isoTimeUs, isPlainTimeUs, isU16, linkEntry, linkFieldsText, writeLinkFields, writeTimeKey, type LinkFields, type LinkKey } from './time.js';
import type { LineWriter, Span } from './writer.js';
import { toHex as hex } from '../util/cursor.js';

const h4 = (n: number) => '0x' + n.toString(16).padStart(4, '0');
const h2 = (n: number) => '0x' + n.toString(16).padStart(2, '0');

/** The line people read for a Control value (flagged when it travels the other way than the app sends it). */
export function controlText(c: ControlInfo, bytes: Uint8Array, direction?: LinkDirection): string {
  const p = c.params;
  let t: string;
  switch (c.name) {
    case 'negotiation data':
      return `Control read after connecting (negotiation data): ${hex(bytes)}`;
    case 'unknown control':
      return `unknown Control bytes ${hex(bytes)}`;
    case 'chunk size negotiation':
      t = `${c.name}: ${h2(p.a as number)} ${h2(p.b as number)}`;
      break;
    case 'ready to receive':
      t = `${c.name}: ${p.credit} free chunk(s)`;
      break;
    case 'clear receive buffer':
      t = 'clear the receive buffer';
      break;
    default:
      t = `${c.name} code ${p.code}`;
  }
  // Flagged only with a direction: the app's code sends it the other way.
  if (c.unexpectedDirection) t += ` (unexpected: the app's code has it ${direction === 'host-to-device' ? 'device -> app' : 'app -> device'} only)`;
  return t;
}

/**
 * The text of a record (the `text` field of the outputs): a register value as people read it
 * ("13.27 V", "Bulk"), a Control value's meaning, a response code, ... Made when a formatter asks,
 * from the record's data: decoding never builds it.
 */
export function victronText(r: VictronRecord): string | undefined {
  if (r.control) return controlText(r.control, r.bytes, r.direction);
  if (r.kind === 'padding') return `${r.bytes.length} padding byte(s) 0xff`;
  if (r.kind !== 'message') return undefined;
  switch (r.type) {
    case 0x08:
    case 0x06:
      if (r.register === undefined || !r.raw) return undefined;
      return r.def ? registerText(r.def, r.raw) : `unknown register, ${r.raw.length} byte(s): ${hex(r.raw)}`;
    case 0x09:
      return `response code ${r.response}${r.response === 0 ? ' (ok)' : ''}`;
    case 0x07:
      return `${r.answered !== undefined ? h2(r.answered) : '?'} answered ${r.response}${r.response === 0 ? ' (ok)' : ''}`;
    case 0x02:
      return ((r.value as number[][] | null) ?? []).map((d) => `(${d.join(',')})`).join(' ');
    case 0x0d:
      return typeof r.value === 'string' ? `${r.value.length} characters` : undefined;
    case 0x0e: {
      const v = r.value as { index?: number; path?: string };
      return `${v.index} = ${v.path}`;
    }
    default:
      return undefined;
  }
}

/**
 * The NDJSON record of `vgatt decode`. Public contract (issue 3): kind, frame, frames, time,
 * connection, device, direction, type, typeName, instance, register, registerName, raw, value,
 * unit, profile, request, response. Added: text, latencyMs, answered, reason, problem, bytes, ranges, handle.
 */
export function victronToJson(r: VictronRecord): Record<string, unknown> {
  // Only defined keys, in the contract's order (cheaper to serialise than a sparse object).
  const o: Record<string, unknown> = { kind: r.kind };
  if (r.file !== undefined) o.file = r.file;
  Object.assign(o, { frame: r.frame, frames: r.frames, time: isoTimeUs(r.timeUs), connection: r.connection });
  if (r.session !== undefined) o.session = r.session;
  if (r.device !== undefined) o.device = r.device;
  o.direction = r.direction;
  if (r.type !== undefined) o.type = r.type;
  if (r.typeName !== undefined) o.typeName = r.typeName;
  if (r.instance !== undefined) o.instance = r.instance;
  if (r.register !== undefined) o.register = r.register;
  if (r.registerName !== undefined) o.registerName = r.registerName;
  if (r.raw) o.raw = hex(r.raw);
  if (r.value !== undefined) o.value = typeof r.value === 'object' && r.value !== null ? jsonSafe(r.value) : r.value;
  if (r.unit !== undefined) o.unit = r.unit;
  if (r.profile !== undefined) o.profile = r.profile;
  if (r.request !== undefined) o.request = r.request;
  if (r.response !== undefined) o.response = r.response;
  const text = victronText(r);
  if (text !== undefined) o.text = text;
  if (r.latencyMs !== undefined) o.latencyMs = r.latencyMs;
  if (r.answered !== undefined) o.answered = r.answered;
  if (r.reason !== undefined) o.reason = r.reason;
  if (r.problem !== undefined) o.problem = r.problem;
  o.bytes = hex(r.bytes);
  o.ranges = r.ranges;
  if (r.handle) o.handle = r.handle;
  return o;
}

const q = JSON.stringify;

/** Same text as JSON.stringify(victronToJson(r)), built by hand: the hot path of `vgatt decode`. */
export function victronToNdjson(r: VictronRecord): string {
  let s = `{"kind":"${r.kind}"`;
  if (r.file !== undefined) s += `,"file":${q(r.file)}`;
  s += `,"frame":${r.frame},"frames":[${r.frames.join(',')}],"time":"${isoTimeUs(r.timeUs)}","connection":${r.connection}`;
  if (r.session !== undefined) s += `,"session":${r.session}`;
  if (r.device !== undefined) s += `,"device":${q(r.device)}`;
  s += `,"direction":"${r.direction}"`;
  if (r.type !== undefined) s += `,"type":${r.type}`;
  if (r.typeName !== undefined) s += `,"typeName":${q(r.typeName)}`;
  if (r.instance !== undefined) s += `,"instance":${r.instance}`;
  if (r.register !== undefined) s += `,"register":${r.register}`;
  if (r.registerName !== undefined) s += `,"registerName":${q(r.registerName)}`;
  if (r.raw) s += `,"raw":"${hex(r.raw)}"`;
  if (r.value !== undefined) s += `,"value":${typeof r.value === 'number' ? (Number.isFinite(r.value) ? String(r.value) : 'null') : q(typeof r.value === 'object' && r.value !== null ? jsonSafe(r.value) : r.value)}`;
  if (r.unit !== undefined) s += `,"unit":${q(r.unit)}`;
  if (r.profile !== undefined) s += `,"profile":${q(r.profile)}`;
  if (r.request !== undefined) s += `,"request":${r.request}`;
  if (r.response !== undefined) s += `,"response":${r.response}`;
  const text = victronText(r);
  if (text !== undefined) s += `,"text":${q(text)}`;
  if (r.latencyMs !== undefined) s += `,"latencyMs":${r.latencyMs}`;
  if (r.answered !== undefined) s += `,"answered":${r.answered}`;
  if (r.reason !== undefined) s += `,"reason":${q(r.reason)}`;
  if (r.problem !== undefined) s += `,"problem":${q(r.problem)}`;
  s += `,"bytes":"${hex(r.bytes)}","ranges":[`;
  for (let i = 0; i < r.ranges.length; i++) {
    const g = r.ranges[i]!;
    s += `${i ? ',' : ''}{"frame":${g.frame},"start":${g.start},"end":${g.end}}`;
  }
  s += ']';
  if (r.handle) s += `,"handle":${r.handle}`;
  return s + '}';
}

/** The fixed pieces of a record, encoded once: a piece is copied with one `set` (LineWriter.bytes). */
const key = (s: string) => Buffer.from(s, 'latin1');
const FRAMES = key(',"frames":[');
const RAW = key(',"raw":"');
const RAW_END_VALUE = key('","value":');
const VALUE = key(',"value":');
const TEXT = key(',"text":');
const TEXT_QUOTE = key(',"text":"');
const BYTES = key(',"bytes":"');
const NO_RANGES = key('","ranges":[]');
const FIRST_RANGE = key('","ranges":[{"frame":');
const NEXT_RANGE = key('},{"frame":');
const START = key(',"start":');
const END = key(',"end":');
const HANDLE = key(',"handle":');

/** `{"kind":"...","frame":` per kind. */
const KIND_HEAD: Record<string, Buffer> = {};
/** `,"type":N,"typeName":"...","instance":N` per opcode, with the name and instance it was made for (the last one seen). */
const TYPE_FIELDS: ({ name: string; instance: number; bytes: Buffer } | undefined)[] = [];
/** `,"register":N,"registerName":"..."` per register, with the name it was made for (profiles may name a register differently). */
const REGISTER_FIELDS = new Map<number, { name: string; bytes: Buffer }>();

function typeFields(type: number, name: string, instance: number): Buffer {
  const c = TYPE_FIELDS[type];
  if (c !== undefined && c.name === name && c.instance === instance) return c.bytes;
  const bytes = Buffer.from(`,"type":${type},"typeName":${q(name)},"instance":${instance}`, 'utf8');
  if (Number.isInteger(type) && type >= 0 && type < 256) TYPE_FIELDS[type] = { name, instance, bytes };
  return bytes;
}

function unitProfileText(unit: string | undefined, profile: string | undefined): string {
  return (unit !== undefined ? `,"unit":${q(unit)}` : '') + (profile !== undefined ? `,"profile":${q(profile)}` : '');
}

/** `,"unit":"..","profile":".."` (either may be absent), for the last few pairs written. */
const UNIT_PROFILE: { unit: string | undefined; profile: string | undefined; bytes: Buffer }[] = [];
let nextUnitProfile = 0;

function unitProfileFields(unit: string | undefined, profile: string | undefined): Buffer {
  for (let i = 0; i < UNIT_PROFILE.length; i++) {
    const c = UNIT_PROFILE[i]!;
    if (c.unit === unit && c.profile === profile) return c.bytes;
  }
  const c = { unit, profile, bytes: Buffer.from(unitProfileText(unit, profile), 'utf8') };
  if (UNIT_PROFILE.length < 16) UNIT_PROFILE.push(c);
  else UNIT_PROFILE[nextUnitProfile++ % 16] = c;
  return c.bytes;
}

function registerFields(register: number, name: string): Buffer {
  const c = REGISTER_FIELDS.get(register);
  if (c !== undefined && c.name === name) return c.bytes;
  const bytes = Buffer.from(`,"register":${register},"registerName":${q(name)}`, 'utf8');
  if (REGISTER_FIELDS.size < 65536) REGISTER_FIELDS.set(register, { name, bytes });
  return bytes;
}

/** How a record head ends: what comes after the register's name in every record it is used for. */
const enum HeadEnd {
  /** `,"raw":"`: the raw bytes follow. */
  Raw,
  /** The unit, the profile and `,"bytes":"`: a record with nothing between (a get values). */
  Bytes,
  /** Nothing: the value or the unit follows. */
  Name,
}

/** A record's fields from the end of its time to its first field that changes per record (see recordHead). */
interface RecordHead {
  typeName: string;
  instance: number;
  registerName: string;
  unit: string | undefined;
  profile: string | undefined;
  bytes: Buffer;
}
interface LinkHeads extends LinkKey {
  /** linkFieldsText() of the link. */
  link: string;
  /** By register, opcode and HeadEnd. */
  heads: Map<number, RecordHead>;
}
const linkHeads = (r: LinkFields): LinkHeads => ({ session: r.session, device: r.device, direction: r.direction, link: linkFieldsText(r), heads: new Map() });
/**
 * The records of one link and register repeat everything from the time's `Z"` to the register's name
 * (the unit, profile and bytes key too, in a get values): encoded once (a capture has a few hundred
 * such heads) and written in one copy (issue 11).
 */
const headCache = new Map<number, LinkHeads>();

function recordHead(r: VictronRecord & { type: number; typeName: string; instance: number; register: number; registerName: string }, end: HeadEnd): RecordHead {
  const link = linkEntry(headCache, r, linkHeads);
  const key = (r.register * 32 + r.type) * 4 + end;
  let e = link.heads.get(key);
  if (e === undefined || e.typeName !== r.typeName || e.instance !== r.instance || e.registerName !== r.registerName || e.unit !== r.unit || e.profile !== r.profile) {
    if (link.heads.size >= 4096) link.heads.clear();
    const rest = end === HeadEnd.Raw ? ',"raw":"' : end === HeadEnd.Bytes ? unitProfileText(r.unit, r.profile) + ',"bytes":"' : '';
    const text = `${link.link},"type":${r.type},"typeName":${q(r.typeName)},"instance":${r.instance},"register":${r.register},"registerName":${q(r.registerName)}${rest}`;
    e = { typeName: r.typeName, instance: r.instance, registerName: r.registerName, unit: r.unit, profile: r.profile, bytes: Buffer.from(text, 'utf8') };
    link.heads.set(key, e);
  }
  return e;
}

/**
 * The text of a register value whose definition is one plain number (no labels, ids or bits: most
 * values), written as bytes: the number as the text shows it and its unit. False for anything else
 * (victronText makes those). The same text as registerText.
 */
function writePlainValueText(w: LineWriter, r: VictronRecord, plan: ScalarPlan | undefined): boolean {
  const v = r.value;
  if (plan === undefined || typeof v !== 'number' || r.raw === undefined || r.raw.length !== plan.size) return false;
  const f = plan.field;
  if (f.format !== undefined || f.bits !== undefined) return false;
  const raw = planRaw(plan, r.raw);
  if (!(raw < plan.labelMin || raw > plan.labelMax)) {
    // A label for this raw value: the label is the text.
    const label = f.special?.[raw] ?? f.enum?.[raw];
    if (label !== undefined) {
      w.bytes(TEXT);
      w.jsonCached(label);
      return true;
    }
  }
  w.bytes(TEXT_QUOTE);
  if (f.scale) w.fixed(v, plan.decimals);
  else w.numText(v);
  if (f.unit) w.spacedJsonTail(f.unit);
  else w.ascii('"');
  return true;
}

/**
 * How the record head of `r` ends (see recordHead), or undefined when its fields are not all there,
 * or are not what the decoder makes (opcodes, instances, registers and connection handles that
 * fit 16 bits, times in whole microseconds): such records are written field by field.
 */
function headEnd(r: VictronRecord): HeadEnd | undefined {
  if (r.typeName === undefined || r.registerName === undefined || !isU16(r.type) || r.type! >= 32 || !isU16(r.instance) || !isU16(r.register) || !isU16(r.connection) || !isPlainTimeUs(r.timeUs)) return undefined;
  if (r.raw) return HeadEnd.Raw;
  const bare = r.value === undefined && r.request === undefined && r.response === undefined && r.latencyMs === undefined && r.answered === undefined && r.reason === undefined && r.problem === undefined && victronText(r) === undefined;
  return bare ? HeadEnd.Bytes : HeadEnd.Name;
}

/** The start of the last record written through its head, to `,"time":"...` and the microseconds: where it is in the writer, and the record. */
const prefix: Span = { buffer: -1, start: 0, end: 0 };
let prefixRecord: VictronRecord | undefined;

/** Whether records `a` and `b` start alike up to their time (see writeVictronNdjson). */
function samePrefix(a: VictronRecord, b: VictronRecord): boolean {
  if (a.frame !== b.frame || a.timeUs !== b.timeUs || a.kind !== b.kind || a.frames.length !== b.frames.length) return false;
  for (let i = 0; i < a.frames.length; i++) if (a.frames[i] !== b.frames[i]) return false;
  return true;
}

/** victronToNdjson(r) and its newline, written into `w` byte by byte (the hot path of `vgatt decode --format ndjson`). */
export function writeVictronNdjson(w: LineWriter, r: VictronRecord): void {
  const end = headEnd(r);
  // The records of a frame start alike, up to their time: the first one's start is copied for the others.
  const again = end !== undefined && r.file === undefined && prefixRecord !== undefined && samePrefix(prefixRecord, r) && w.repeat(prefix);
  if (!again) {
    w.mark(prefix);
    if (r.file !== undefined) {
      w.ascii('{"kind":"');
      w.ascii(r.kind);
      w.ascii('","file":');
      w.json(r.file);
      w.ascii(',"frame":');
    } else w.bytes((KIND_HEAD[r.kind] ??= Buffer.from(`{"kind":"${r.kind}","frame":`, 'latin1')));
    w.uint(r.frame);
    w.bytes(FRAMES);
    const frames = r.frames;
    for (let i = 0; i < frames.length; i++) {
      if (i) w.byte(0x2c);
      w.uint(frames[i]!);
    }
    w.byte(0x5d);
    if (end !== undefined) {
      writeTimeKey(w, r.timeUs);
      w.markEnd(prefix);
    }
    prefixRecord = end !== undefined && r.file === undefined ? r : undefined;
  }
  if (end !== undefined) w.bytes(recordHead(r as Parameters<typeof recordHead>[0], end).bytes);
  else {
    writeLinkFields(w, r);
    if (r.type !== undefined && r.typeName !== undefined && r.instance !== undefined && Number.isInteger(r.instance)) w.bytes(typeFields(r.type, r.typeName, r.instance));
    else {
      if (r.type !== undefined) {
        w.ascii(',"type":');
        w.numText(r.type);
      }
      if (r.typeName !== undefined) {
        w.ascii(',"typeName":');
        w.jsonCached(r.typeName);
      }
      if (r.instance !== undefined) {
        w.ascii(',"instance":');
        w.numText(r.instance);
      }
    }
    if (r.register !== undefined && r.registerName !== undefined && Number.isInteger(r.register)) w.bytes(registerFields(r.register, r.registerName));
    else {
      if (r.register !== undefined) {
        w.ascii(',"register":');
        w.numText(r.register);
      }
      if (r.registerName !== undefined) {
        w.ascii(',"registerName":');
        w.jsonCached(r.registerName);
      }
    }
  }
  if (end !== HeadEnd.Bytes) writeValueToBytesKey(w, r, end === HeadEnd.Raw);
  w.hex(r.bytes);
  const ranges = r.ranges;
  if (ranges.length === 0) w.bytes(NO_RANGES);
  else {
    const last = ranges.length - 1;
    for (let i = 0; i <= last; i++) {
      const g = ranges[i]!;
      w.bytes(i ? NEXT_RANGE : FIRST_RANGE);
      w.uint(g.frame);
      // Offsets 0 to 255 and handles below 2^15 (keys stay small integers): the record's end in one copy.
      if (i === last && (g.start & 255) === g.start && (g.end & 255) === g.end && (r.handle & 0x7fff) === r.handle) return w.bytes(recordEnd(g.start, g.end, r.handle));
      w.bytes(START);
      w.uint(g.start);
      w.bytes(END);
      w.uint(g.end);
    }
    w.ascii('}]');
  }
  if (r.handle) {
    w.bytes(HANDLE);
    w.numText(r.handle);
  }
  w.ascii('}\n'); // the record's end and the line's
}

/**
 * `,"start":S,"end":E}],"handle":H}` and the newline, by H * 65536 + S * 256 + E: how most records
 * end (a capture has a few dozen such ends). Bounded: cleared at 4,096.
 */
const RECORD_ENDS = new Map<number, Buffer>();

function recordEnd(start: number, end: number, handle: number): Buffer {
  const key = handle * 65536 + start * 256 + end;
  let e = RECORD_ENDS.get(key);
  if (e === undefined) {
    if (RECORD_ENDS.size >= 4096) RECORD_ENDS.clear();
    e = Buffer.from(`,"start":${start},"end":${end}}]${handle ? `,"handle":${handle}` : ''}}\n`, 'latin1');
    RECORD_ENDS.set(key, e);
  }
  return e;
}

/** The fields of `r` from its raw bytes (after their key when `rawKeyWritten`) to the key of its bytes: `,"bytes":"`. */
function writeValueToBytesKey(w: LineWriter, r: VictronRecord, rawKeyWritten: boolean): void {
  // A register whose value is one number: the value and the text are written from its plan.
  const plan = r.def !== undefined && typeof r.value === 'number' ? scalarPlan(r.def) : undefined;
  if (r.raw) {
    if (!rawKeyWritten) w.bytes(RAW);
    w.hex(r.raw);
    if (r.value !== undefined) w.bytes(RAW_END_VALUE);
    else w.byte(0x22);
  } else if (r.value !== undefined) w.bytes(VALUE);
  if (r.value !== undefined) {
    const v = r.value;
    if (typeof v === 'number') {
      if (plan !== undefined && plan.scaled && !Number.isInteger(v)) w.decimal(v, plan.decimals);
      else w.num(v);
    }
    else if (typeof v === 'string') w.json(v);
    else w.utf8(q(typeof v === 'object' && v !== null ? jsonSafe(v) : v));
  }
  if (r.unit !== undefined || r.profile !== undefined) w.bytes(unitProfileFields(r.unit, r.profile));
  if (r.request !== undefined) {
    w.ascii(',"request":');
    w.numText(r.request);
  }
  if (r.response !== undefined) {
    w.ascii(',"response":');
    w.numText(r.response);
  }
  if (!writePlainValueText(w, r, plan)) {
    const text = victronText(r);
    if (text !== undefined) {
      w.ascii(',"text":');
      w.json(text);
    }
  }
  if (r.latencyMs !== undefined) {
    w.ascii(',"latencyMs":');
    w.numText(r.latencyMs);
  }
  if (r.answered !== undefined) {
    w.ascii(',"answered":');
    w.utf8(String(r.answered));
  }
  if (r.reason !== undefined) {
    w.ascii(',"reason":');
    w.jsonCached(r.reason);
  }
  if (r.problem !== undefined) {
    w.ascii(',"problem":');
    w.json(r.problem);
  }
  w.bytes(BYTES);
}

const VICTRON_CSV_COLUMNS = ['kind', 'frame', 'frames', 'time', 'connection', 'device', 'direction', 'type', 'typeName', 'instance', 'register', 'registerName', 'raw', 'value', 'unit', 'text', 'profile', 'request', 'response', 'reason', 'session'];
export const VICTRON_CSV_HEADER = csvRow(VICTRON_CSV_COLUMNS);
/** With a `file` column last: for runs that read several captures. */
export const VICTRON_CSV_HEADER_FILES = csvRow([...VICTRON_CSV_COLUMNS, 'file']);

export function victronToCsv(r: VictronRecord): string {
  const value = r.value === undefined || r.value === null ? '' : typeof r.value === 'object' ? JSON.stringify(jsonSafe(r.value)) : String(r.value);
  const row: Parameters<typeof csvRow>[0] = [r.kind, r.frame, r.frames.join(' '), isoTimeUs(r.timeUs), r.connection, r.device, r.direction, r.type, r.typeName, r.instance, r.register !== undefined ? h4(r.register) : '', r.registerName, r.raw ? hex(r.raw) : '', value, r.unit, victronText(r), r.profile, r.request, r.response, r.reason, r.session];
  if (r.file !== undefined) row.push(r.file);
  return csvRow(row);
}

export const VICTRON_TEXT_HEADER = `${'Frame'.padStart(7)}  ${'Time (UTC)'.padEnd(15)}  Dir  What`;

/** One line per record, to read next to Wireshark: frame, time, direction, meaning, raw bytes. */
export function victronToText(r: VictronRecord): string {
  const t = isoTimeUs(r.timeUs).slice(11, 26);
  const dir = r.direction === 'host-to-device' ? '-->' : '<--';
  const from = r.frames.length > 1 ? `  (frames ${r.frames.join(',')})` : '';
  let what: string;
  if (r.kind === 'unknown') what = `UNKNOWN ${r.bytes.length} byte(s): ${r.reason}  [${hex(r.bytes)}]`;
  else if (r.kind === 'padding') what = `padding  [${hex(r.bytes)}]`;
  else if (r.kind === 'control') what = `Control: ${victronText(r)}  [${hex(r.bytes)}]`;
  else {
    const inst = r.instance !== undefined ? ` inst ${r.instance}` : '';
    const reg = r.register !== undefined ? ` ${h4(r.register)} ${r.registerName ?? '(unknown register)'}` : '';
    const text = victronText(r);
    const val = text !== undefined ? ` = ${text}` : '';
    const req = r.request !== undefined ? `  (reply to frame ${r.request}, ${r.latencyMs} ms)` : '';
    const prob = r.problem ? `  !! ${r.problem}` : '';
    const raw = r.raw ? `  raw ${hex(r.raw)}` : '';
    what = `${r.typeName ?? `type ${h2(r.type ?? 0)}`}${inst}${reg}${val}${raw}${req}${prob}  [${hex(r.bytes)}]`;
  }
  return `${String(r.frame).padStart(7)}  ${t}  ${dir}  ${what}${from}`;
}
