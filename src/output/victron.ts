import type { VictronRecord } from '../victron/index.js';
import { csvRow } from './csv.js';
import { jsonSafe } from './json.js';
import { isoTimeUs } from './time.js';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const h4 = (n: number) => '0x' + n.toString(16).padStart(4, '0');
const h2 = (n: number) => '0x' + n.toString(16).padStart(2, '0');

/**
 * The NDJSON record of `vgatt decode`. Public contract (issue 3): kind, frame, frames, time,
 * connection, device, direction, type, typeName, instance, register, registerName, raw, value,
 * unit, profile, request, response. Added: text, latencyMs, answered, reason, problem, bytes, ranges, handle.
 */
export function victronToJson(r: VictronRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {
    kind: r.kind,
    frame: r.frame,
    frames: r.frames,
    time: isoTimeUs(r.timeUs),
    connection: r.connection,
    device: r.device,
    direction: r.direction,
    type: r.type,
    typeName: r.typeName,
    instance: r.instance,
    register: r.register,
    registerName: r.registerName,
    raw: r.raw ? hex(r.raw) : undefined,
    value: r.value === undefined ? undefined : jsonSafe(r.value),
    unit: r.unit,
    profile: r.profile,
    request: r.request,
    response: r.response,
    text: r.text,
    latencyMs: r.latencyMs,
    answered: r.answered,
    reason: r.reason,
    problem: r.problem,
    bytes: hex(r.bytes),
    ranges: r.ranges,
    handle: r.handle || undefined,
  };
  return o;
}

export function victronToNdjson(r: VictronRecord): string {
  return JSON.stringify(victronToJson(r));
}

export const VICTRON_CSV_HEADER = csvRow(['kind', 'frame', 'frames', 'time', 'connection', 'device', 'direction', 'type', 'typeName', 'instance', 'register', 'registerName', 'raw', 'value', 'unit', 'text', 'profile', 'request', 'response', 'reason']);

export function victronToCsv(r: VictronRecord): string {
  const value = r.value === undefined || r.value === null ? '' : typeof r.value === 'object' ? JSON.stringify(jsonSafe(r.value)) : String(r.value);
  return csvRow([r.kind, r.frame, r.frames.join(' '), isoTimeUs(r.timeUs), r.connection, r.device, r.direction, r.type, r.typeName, r.instance, r.register !== undefined ? h4(r.register) : '', r.registerName, r.raw ? hex(r.raw) : '', value, r.unit, r.text, r.profile, r.request, r.response, r.reason]);
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
  else if (r.kind === 'control') what = `Control: ${r.text}  [${hex(r.bytes)}]`;
  else {
    const inst = r.instance !== undefined ? ` inst ${r.instance}` : '';
    const reg = r.register !== undefined ? ` ${h4(r.register)} ${r.registerName ?? '(unknown register)'}` : '';
    const val = r.text !== undefined ? ` = ${r.text}` : '';
    const req = r.request !== undefined ? `  (reply to frame ${r.request}, ${r.latencyMs} ms)` : '';
    const prob = r.problem ? `  !! ${r.problem}` : '';
    const raw = r.raw ? `  raw ${hex(r.raw)}` : '';
    what = `${r.typeName ?? `type ${h2(r.type ?? 0)}`}${inst}${reg}${val}${raw}${req}${prob}  [${hex(r.bytes)}]`;
  }
  return `${String(r.frame).padStart(7)}  ${t}  ${dir}  ${what}${from}`;
}
