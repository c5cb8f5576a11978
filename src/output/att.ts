import type { AttPdu } from '../bluetooth/types.js';
import { toHex } from '../util/cursor.js';
import { csvRow } from './csv.js';
import { jsonSafe } from './json.js';
import { isoTimeUs, isPlainTimeUs, isU16, linkEntry, linkFieldsText, writeTimeKey, type LinkFields, type LinkKey } from './time.js';
import type { LineWriter } from './writer.js';

/**
 * The NDJSON record of one ATT PDU. Field names are a public contract (issue 2):
 * frame, time, connection, device, direction, opcode, opcodeName, handle, uuid, value.
 * Added later, never renamed: frames, handles, truncated, fields.
 */
export interface AttJson {
  /** The capture, when the run reads several. */
  file?: string;
  frame: number;
  time: string;
  connection: number;
  session?: number;
  device?: string;
  direction: string;
  opcode: number;
  opcodeName: string;
  handle?: number;
  uuid?: string;
  value?: string;
  frames: number[];
  handles?: number[];
  truncated?: true;
  fields?: Record<string, unknown>;
}

export function attToJson(p: AttPdu): AttJson {
  const out: AttJson = {
    ...(p.file !== undefined ? { file: p.file } : {}),
    frame: p.frame,
    time: isoTimeUs(p.timeUs),
    connection: p.connection,
    session: p.session,
    device: p.device,
    direction: p.direction,
    opcode: p.opcode,
    opcodeName: p.opcodeName,
    handle: p.handle,
    uuid: p.uuid,
    value: p.value ? toHex(p.value) : undefined,
    frames: p.frames,
  };
  const { handles, ...rest } = p.fields as { handles?: number[] } & Record<string, unknown>;
  if (handles && handles.length > 0) out.handles = handles;
  if (p.truncated) out.truncated = true;
  if (Object.keys(rest).length > 0) out.fields = jsonSafe(rest) as Record<string, unknown>;
  return out;
}

/** Same as JSON.stringify(attToJson(p)), built by hand for the common PDUs (this is the hot path of `vgatt att`). */
export function attToNdjson(p: AttPdu): string {
  const f = p.fields as { handles?: number[] };
  const keys = Object.keys(p.fields);
  // Only the handles field: every other field is simple; strings here are hex, addresses, UUIDs, fixed names.
  if (keys.length !== 1 || keys[0] !== 'handles') return JSON.stringify(attToJson(p));
  let s = p.file !== undefined ? `{"file":${JSON.stringify(p.file)},"frame":${p.frame}` : `{"frame":${p.frame}`;
  s += `,"time":"${isoTimeUs(p.timeUs)}","connection":${p.connection}`;
  if (p.session !== undefined) s += `,"session":${p.session}`;
  if (p.device !== undefined) s += `,"device":"${p.device}"`;
  s += `,"direction":"${p.direction}","opcode":${p.opcode},"opcodeName":"${p.opcodeName}"`;
  if (p.handle !== undefined) s += `,"handle":${p.handle}`;
  if (p.uuid !== undefined) s += `,"uuid":${JSON.stringify(p.uuid)}`;
  if (p.value !== undefined) s += `,"value":"${toHex(p.value)}"`;
  s += `,"frames":[${p.frames.join(',')}]`;
  if (f.handles && f.handles.length > 0) s += `,"handles":[${f.handles.join(',')}]`;
  if (p.truncated) s += ',"truncated":true';
  return s + '}';
}

const FRAME_KEY = Buffer.from('{"frame":');
const VALUE_END_FRAMES_KEY = Buffer.from('","frames":[');
const HANDLES_KEY = Buffer.from('],"handles":[');
const END = Buffer.from(']}');
const TRUNCATED_END = Buffer.from(',"truncated":true}');

interface AttHead {
  opcodeName: string;
  handle?: number;
  uuid?: string;
  /**
   * Everything between the time's digits and the value's: the link fields, opcode, its name, handle,
   * UUID and `,"value":"` (`,"frames":[` for a PDU without a value).
   */
  bytes: Buffer;
  /** `],"handles":[39]}` and the newline: how a record whose handles are its handle alone ends. */
  tail: Buffer;
}
interface LinkHeads extends LinkKey {
  /** By opcode, handle and whether a value follows. */
  heads: Map<number, AttHead>;
}
const linkHeads = (r: LinkFields): LinkHeads => ({ session: r.session, device: r.device, direction: r.direction, heads: new Map() });
/**
 * Records of one link and opcode on one handle repeat everything but the frame, time and value: that
 * part is encoded once (a capture has a few dozen such heads) and written in one copy (issue 11).
 */
const headCache = new Map<number, LinkHeads>();

function attHead(p: AttPdu): AttHead {
  const link = linkEntry(headCache, p, linkHeads);
  const h = p.handle;
  const key = (p.opcode * 0x1_0001 + (h ?? 0x1_0000)) * 2 + (p.value !== undefined ? 1 : 0);
  let e = link.heads.get(key);
  if (e === undefined || e.opcodeName !== p.opcodeName || e.handle !== h || e.uuid !== p.uuid) {
    if (link.heads.size >= 4096) link.heads.clear();
    const handle = h !== undefined ? `,"handle":${h}` : '';
    const uuid = p.uuid !== undefined ? `,"uuid":${JSON.stringify(p.uuid)}` : '';
    const text = `${linkFieldsText(p)},"opcode":${p.opcode},"opcodeName":${JSON.stringify(p.opcodeName)}${handle}${uuid}${p.value !== undefined ? ',"value":"' : ',"frames":['}`;
    e = { opcodeName: p.opcodeName, handle: h, uuid: p.uuid, bytes: Buffer.from(text, 'utf8'), tail: Buffer.from(`],"handles":[${h}]}\n`) };
    link.heads.set(key, e);
  }
  return e;
}

/** attToNdjson(p) and its newline, written into `w` byte by byte (the hot path of `vgatt att --format ndjson`). */
export function writeAttNdjson(w: LineWriter, p: AttPdu): void {
  const f = p.fields as { handles?: number[] };
  let only = 0;
  for (const k in f) {
    if (k !== 'handles') return w.add(JSON.stringify(attToJson(p)));
    only++;
  }
  const h = p.handle;
  // The common record, from the caches: opcodes, handles and connection handles as the ATT layer reads
  // them (a byte, 16-bit numbers), times in whole microseconds. Anything else is written by JSON.stringify.
  if (only !== 1 || !(Number.isInteger(p.opcode) && p.opcode >= 0 && p.opcode < 0x100) || !isU16(p.connection) || (h !== undefined && !isU16(h)) || !isPlainTimeUs(p.timeUs)) {
    return w.add(JSON.stringify(attToJson(p)));
  }
  if (p.file !== undefined) {
    w.ascii('{"file":');
    w.json(p.file);
    w.ascii(',"frame":');
  } else w.bytes(FRAME_KEY);
  w.uint(p.frame);
  writeTimeKey(w, p.timeUs);
  const head = attHead(p);
  w.bytes(head.bytes);
  if (p.value !== undefined) {
    w.hex(p.value);
    w.bytes(VALUE_END_FRAMES_KEY);
  }
  const frames = p.frames;
  for (let i = 0; i < frames.length; i++) {
    if (i) w.byte(0x2c);
    w.uint(frames[i]!);
  }
  const handles = f.handles;
  if (!p.truncated && handles && handles.length === 1 && handles[0] === h) return w.bytes(head.tail);
  if (handles && handles.length > 0) {
    w.bytes(HANDLES_KEY);
    for (let i = 0; i < handles.length; i++) {
      if (i) w.byte(0x2c);
      w.uint(handles[i]!);
    }
  }
  if (p.truncated) {
    w.byte(0x5d);
    w.bytes(TRUNCATED_END);
  } else w.bytes(END);
  w.end();
}

const ATT_CSV_COLUMNS = ['frame', 'time', 'connection', 'device', 'direction', 'opcode', 'opcodeName', 'handle', 'uuid', 'value', 'truncated', 'session'];
export const ATT_CSV_HEADER = csvRow(ATT_CSV_COLUMNS);
/** With a `file` column last: for runs that read several captures. */
export const ATT_CSV_HEADER_FILES = csvRow([...ATT_CSV_COLUMNS, 'file']);

/** One CSV row; the `file` column is added when the PDU carries its capture's name (several captures read). */
export function attToCsv(p: AttPdu): string {
  const row: unknown[] = [p.frame, isoTimeUs(p.timeUs), p.connection, p.device, p.direction, p.opcode, p.opcodeName, p.handle, p.uuid, p.value ? toHex(p.value) : '', p.truncated ? 'true' : '', p.session];
  if (p.file !== undefined) row.push(p.file);
  return csvRow(row as Parameters<typeof csvRow>[0]);
}

const hex4 = (n: number) => '0x' + n.toString(16).padStart(4, '0');

export const ATT_TEXT_HEADER = [
  'Frame'.padStart(7),
  'Time (UTC)'.padEnd(15),
  'Conn'.padStart(6),
  'Dir',
  'ATT PDU'.padEnd(34),
  'Handle'.padEnd(6),
  'UUID / details',
].join('  ');

/** Summary of the opcode-specific fields, for the text table (values are shown separately). */
function details(p: AttPdu): string {
  const { handles: _h, ...rest } = p.fields as Record<string, unknown>;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(jsonSafe(rest) as Record<string, unknown>)) {
    parts.push(`${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  return parts.join(' ');
}

export function attToText(p: AttPdu): string {
  const t = isoTimeUs(p.timeUs).slice(11, 26);
  const dir = p.direction === 'host-to-device' ? '-->' : '<--';
  const cols = [
    String(p.frame).padStart(7),
    t,
    hex4(p.connection).padStart(6),
    dir,
    `${p.opcodeName} (0x${p.opcode.toString(16).padStart(2, '0')})`.padEnd(34),
    (p.handle !== undefined ? hex4(p.handle) : '').padEnd(6),
  ];
  const extra = [p.uuid ?? '', p.value ? `value=${toHex(p.value)}` : '', p.truncated ? '[TRUNCATED]' : '', details(p)].filter(Boolean).join('  ');
  return cols.join('  ') + '  ' + extra;
}
