/**
 * Output of `vgatt adverts`: one record per Victron advert. NDJSON and CSV keep every advert; text
 * folds a run of identical adverts from one device (same manufacturer data) into one line with the
 * count and time span.
 */
import type { InstantReadout } from '../adverts/readout.js';
import { productIdHex } from '../profiles/products.js';
import { csvRow } from './csv.js';
import { isoTimeUs } from './time.js';
import { toHex as hex } from '../util/cursor.js';

const h2 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(2, '0');

/**
 * The NDJSON record of `vgatt adverts` (public contract): kind ("instant-readout"), file (several captures), frame, time, device,
 * addressType, rssi, name, prefix, productId, productName, recordType, recordTypeName, iv, keyCheck,
 * decoded, reason, keySource, keyFirstByte, values (field id -> value), units (field id -> unit),
 * fields ([{id, name, raw, value, unit, text}]), missing, raw, plaintext. Keys are never written whole.
 */
export function readoutToJson(r: InstantReadout): Record<string, unknown> {
  const o: Record<string, unknown> = { kind: 'instant-readout' };
  if (r.file !== undefined) o.file = r.file;
  Object.assign(o, { frame: r.frame, time: isoTimeUs(r.timeUs), device: r.device, addressType: r.addressType, rssi: r.rssi });
  if (r.name !== undefined) o.name = r.name;
  o.prefix = r.prefix;
  if (r.productId !== undefined) o.productId = r.productId;
  if (r.productName !== undefined) o.productName = r.productName;
  if (r.recordType !== undefined) o.recordType = r.recordType;
  if (r.recordTypeName !== undefined) o.recordTypeName = r.recordTypeName;
  if (r.iv !== undefined) o.iv = r.iv;
  if (r.keyCheck !== undefined) o.keyCheck = r.keyCheck;
  o.decoded = r.decoded;
  if (r.reason !== undefined) o.reason = r.reason;
  if (r.keySource !== undefined) o.keySource = r.keySource;
  if (r.keyFirstByte !== undefined) o.keyFirstByte = r.keyFirstByte;
  if (r.decoded) {
    o.values = Object.fromEntries(r.fields.map((f) => [f.id, f.value]));
    o.units = Object.fromEntries(r.fields.filter((f) => f.unit !== undefined).map((f) => [f.id, f.unit]));
    o.fields = r.fields.map((f) => ({ id: f.id, name: f.name, raw: f.raw, value: f.value, ...(f.unit !== undefined ? { unit: f.unit } : {}), text: f.text }));
  }
  if (r.missing) o.missing = r.missing;
  o.raw = hex(r.raw);
  if (r.plaintext) o.plaintext = hex(r.plaintext);
  return o;
}

export function readoutToNdjson(r: InstantReadout): string {
  return JSON.stringify(readoutToJson(r));
}

export const READOUT_CSV_HEADER = 'frame,time,device,rssi,name,productId,productName,recordType,recordTypeName,decoded,reason,keySource,field,fieldName,value,unit,text';

/** CSV: one row per decoded field (long format: easy to pivot), one row with empty field columns otherwise. */
export function readoutToCsv(r: InstantReadout): string {
  const head = [r.frame, isoTimeUs(r.timeUs), r.device, r.rssi, r.name, r.productId !== undefined ? productIdHex(r.productId) : '', r.productName, r.recordType !== undefined ? h2(r.recordType) : '', r.recordTypeName, r.decoded, r.reason, r.keySource];
  if (!r.decoded || r.fields.length === 0) return csvRow([...head, '', '', '', '', '']);
  return r.fields.map((f) => csvRow([...head, f.id, f.name, Array.isArray(f.value) ? f.value.join('; ') : f.value, f.unit, f.text])).join('\n');
}

/** What an advert says, on one line: the values, or why they are not there. */
export function readoutSummary(r: InstantReadout): string {
  if (r.decoded) {
    const vals = r.fields.map((f) => `${f.name} ${f.text}`).join(', ');
    const miss = r.missing ? ` (record too short for: ${r.missing.join(', ')})` : '';
    return vals + miss;
  }
  let why: string = r.reason ?? 'not decoded';
  if (r.reason === 'key does not match') why += ` (key ${h2(r.keyFirstByte!)}… from ${r.keySource}, advert wants ${h2(r.keyCheck!)}…)`;
  else if (r.reason === 'no key' && r.keyCheck !== undefined) why += ` (key starts ${h2(r.keyCheck)}…; give --key ${r.device}=<32 hex digits>)`;
  else if (r.reason === 'unknown record type' && r.plaintext) why += `: decrypted ${hex(r.plaintext)}`;
  else if (r.reason === 'too short' && r.raw.length === 4) why += `: ${hex(r.raw)} (product id only: no Instant Readout record)`;
  else if (r.reason === 'not a product advertisement' || r.reason === 'too short') why += `: ${hex(r.raw)}`;
  return why;
}

function product(r: InstantReadout): string {
  if (r.productId === undefined) return 'Victron';
  return r.productName ? `${productIdHex(r.productId)} ${r.productName}` : productIdHex(r.productId);
}

function record(r: InstantReadout): string {
  if (r.recordType === undefined) return '';
  return r.recordTypeName ? `  ${r.recordTypeName} (${h2(r.recordType)})` : `  record ${h2(r.recordType)}`;
}

export const READOUT_TEXT_HEADER = 'frame(s)          time (+ span of identical adverts)    device             rssi  product, record: values';

function textTime(us: number): string {
  return isoTimeUs(us).replace('T', ' ').replace('Z', '');
}

/** A run of identical adverts from one device. */
interface Run {
  first: InstantReadout;
  lastFrame: number;
  lastTimeUs: number;
  count: number;
  rssiMin: number | null;
  rssiMax: number | null;
  key: string;
}

function runLine(run: Run): string {
  const r = run.first;
  const frames = run.count > 1 ? `${r.frame}-${run.lastFrame} x${run.count}` : String(r.frame);
  const span = run.count > 1 ? ` +${((run.lastTimeUs - r.timeUs) / 1e6).toFixed(3)} s` : '';
  const rssi = run.rssiMin === null ? '   - ' : run.rssiMin === run.rssiMax ? String(run.rssiMin).padStart(4) + ' ' : `${run.rssiMin}..${run.rssiMax}`;
  const key = r.keySource && r.plaintext ? `  [key ${h2(r.keyFirstByte!)}… from ${r.keySource}]` : '';
  const name = r.name ? ` "${r.name}"` : '';
  return `${frames.padEnd(17)} ${(textTime(r.timeUs) + span).padEnd(37)} ${r.device}  ${rssi} ${product(r)}${name}${record(r)}: ${readoutSummary(r)}${key}`;
}

/** Completed runs held back so that lines come out in order of first frame (bounded). */
const MAX_HELD = 5000;

/**
 * Folds consecutive identical adverts of each device (same manufacturer data, key and name) into
 * one line. Lines come out in order of their first frame; memory is one open run per device plus
 * at most MAX_HELD finished runs waiting for an older open one.
 */
export class ReadoutTextFolder {
  private open = new Map<string, Run>();
  private held: Run[] = [];

  push(r: InstantReadout): string[] {
    const key = hex(r.raw) + '|' + (r.keySource ?? '') + '|' + (r.name ?? '');
    const run = this.open.get(r.device);
    if (run && run.key === key) {
      run.count++;
      run.lastFrame = r.frame;
      run.lastTimeUs = r.timeUs;
      if (r.rssi !== null) {
        run.rssiMin = run.rssiMin === null ? r.rssi : Math.min(run.rssiMin, r.rssi);
        run.rssiMax = run.rssiMax === null ? r.rssi : Math.max(run.rssiMax, r.rssi);
      }
      return [];
    }
    this.open.set(r.device, { first: r, lastFrame: r.frame, lastTimeUs: r.timeUs, count: 1, rssiMin: r.rssi, rssiMax: r.rssi, key });
    if (!run) return [];
    this.held.push(run);
    return this.release(false);
  }

  private release(all: boolean): string[] {
    this.held.sort((a, b) => a.first.frame - b.first.frame);
    let oldestOpen = Infinity;
    for (const o of this.open.values()) oldestOpen = Math.min(oldestOpen, o.first.frame);
    let n = 0;
    while (n < this.held.length && (all || this.held[n]!.first.frame < oldestOpen || this.held.length - n > MAX_HELD)) n++;
    return this.held.splice(0, n).map(runLine);
  }

  finish(): string[] {
    this.held.push(...this.open.values());
    this.open.clear();
    return this.release(true);
  }
}
