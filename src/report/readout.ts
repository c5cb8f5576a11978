/**
 * The report's "Instant Readout" section: per advertising device, how many adverts, whether and with
 * which key they were decoded (or why not), and per record field its readings over time, kept like the
 * register series (a ChartSeries of min/max buckets, lines broken at silences; enum fields as
 * steps with their changes). Memory: bounded by devices x fields.
 */
import type { InstantReadout } from '../adverts/readout.js';
import type { ReadoutField } from '../adverts/records.js';
import { isoTimeMs } from '../output/time.js';
import { ChartSeries } from './series.js';

const MAX_CHANGES = 200;
const MAX_DEVICES = 200;

export interface ReadoutFieldStats {
  id: string;
  name: string;
  unit?: string;
  kind: 'number' | 'enum' | 'flags' | 'hex';
  count: number;
  first?: string;
  last?: string;
  min?: number;
  max?: number;
  /** [unix ms, value]: numbers, or the raw value of an enum (labels give its names); null breaks the line. */
  points: [number, number | null][];
  labels: Record<string, string>;
  /** Changes of enum and flag fields, in time order. */
  changes: { ms: number; frame: number; text: string }[];
  changesOmitted: number;
}

export interface ReadoutDeviceReport {
  device: string;
  name?: string;
  productId?: number;
  productName?: string;
  recordTypeName?: string;
  firstFrame: number;
  lastFrame: number;
  adverts: number;
  decoded: number;
  /** Adverts not decoded, by reason. */
  reasons: Record<string, number>;
  /** Where the keys used came from ("--key", a file, "frame N"). */
  keySources: string[];
  /** First byte the adverts ask for (their check byte), when they were not decoded. */
  keyCheck?: number;
  fields: ReadoutFieldStats[];
}

interface Series {
  stats: ReadoutFieldStats;
  chart: ChartSeries;
  lastUs?: number;
  lastText?: string;
}

interface Device {
  rep: ReadoutDeviceReport;
  series: Map<string, Series>;
}

function kindOf(f: ReadoutField): ReadoutFieldStats['kind'] {
  if (Array.isArray(f.value)) return 'flags';
  if (typeof f.value === 'string') return 'enum';
  if (f.text.startsWith('0x')) return 'hex';
  return 'number';
}

export class ReadoutReportBuilder {
  private devices = new Map<string, Device>();
  omittedDevices = 0;

  add(r: InstantReadout): void {
    let d = this.devices.get(r.device);
    if (!d) {
      if (this.devices.size >= MAX_DEVICES) {
        this.omittedDevices++;
        return;
      }
      d = { rep: { device: r.device, firstFrame: r.frame, lastFrame: r.frame, adverts: 0, decoded: 0, reasons: {}, keySources: [], fields: [] }, series: new Map() };
      this.devices.set(r.device, d);
    }
    const rep = d.rep;
    rep.adverts++;
    rep.lastFrame = r.frame;
    if (r.name !== undefined) rep.name = r.name;
    if (r.productId !== undefined) rep.productId = r.productId;
    if (r.productName !== undefined) rep.productName = r.productName;
    if (r.recordTypeName !== undefined) rep.recordTypeName = r.recordTypeName;
    if (r.keySource && r.plaintext && !rep.keySources.includes(r.keySource)) rep.keySources.push(r.keySource);
    if (!r.decoded) {
      const why = r.reason ?? 'not decoded';
      rep.reasons[why] = (rep.reasons[why] ?? 0) + 1;
      if (r.keyCheck !== undefined) rep.keyCheck = r.keyCheck;
      return;
    }
    rep.decoded++;
    const ms = Math.round(r.timeUs / 1000);
    for (const f of r.fields) {
      let s = d.series.get(f.id);
      if (!s) {
        s = { stats: { id: f.id, name: f.name, kind: kindOf(f), count: 0, points: [], labels: {}, changes: [], changesOmitted: 0 }, chart: new ChartSeries() };
        if (f.unit !== undefined) s.stats.unit = f.unit;
        d.series.set(f.id, s);
      }
      const st = s.stats;
      st.count++;
      st.first ??= f.text;
      st.last = f.text;
      const num = st.kind === 'number' ? (f.value as number | null) : st.kind === 'enum' ? f.raw : null;
      if (st.kind === 'enum') st.labels[String(f.raw)] = f.text;
      if (typeof num === 'number' && st.kind === 'number') {
        st.min = st.min === undefined ? num : Math.min(st.min, num);
        st.max = st.max === undefined ? num : Math.max(st.max, num);
      }
      if (st.kind === 'number' || st.kind === 'enum') {
        // Adverts come about once a second: a silence of a minute (out of range, the app connected) breaks the line.
        if (s.lastUs !== undefined && r.timeUs - s.lastUs > 60e6) {
          s.chart.break(Math.round((s.lastUs + r.timeUs) / 2000));
        }
        s.lastUs = r.timeUs;
        if (num === null) s.chart.break(ms);
        else s.chart.add(ms, num);
      }
      if ((st.kind === 'enum' || st.kind === 'flags') && f.text !== s.lastText) {
        if (st.changes.length < MAX_CHANGES) st.changes.push({ ms, frame: r.frame, text: f.text });
        else st.changesOmitted++;
        s.lastText = f.text;
      }
    }
  }

  build(): ReadoutDeviceReport[] {
    const out = [...this.devices.values()].map((d) => ({ ...d.rep, fields: [...d.series.values()].map((s) => ({ ...s.stats, points: s.chart.points() })) }));
    return out.sort((a, b) => a.firstFrame - b.firstFrame);
  }
}

const h2 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(2, '0');
const h4 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(4, '0');

/** "12 adverts: 10 decoded (key from frame 41), 2 no key (key starts 0x64…)". */
export function readoutDeviceSummary(d: ReadoutDeviceReport): string {
  const parts: string[] = [];
  if (d.decoded) parts.push(`${d.decoded} decoded${d.keySources.length ? ` (key from ${d.keySources.join(', ')})` : ''}`);
  for (const [why, n] of Object.entries(d.reasons)) parts.push(`${n} ${why}${why === 'no key' && d.keyCheck !== undefined ? ` (key starts ${h2(d.keyCheck)}…)` : ''}`);
  return `${d.adverts} advert(s): ${parts.join(', ')}`;
}

export function readoutDeviceTitle(d: ReadoutDeviceReport): string {
  const product = d.productId !== undefined ? `  ${h4(d.productId)}${d.productName ? ` ${d.productName}` : ''}` : '';
  return `${d.device}${d.name ? ` "${d.name}"` : ''}${product}${d.recordTypeName ? `  ${d.recordTypeName}` : ''}  frames ${d.firstFrame}-${d.lastFrame}`;
}

export function readoutToText(devices: ReadoutDeviceReport[], table: (head: string[], rows: string[][]) => string[]): string[] {
  if (devices.length === 0) return [];
  const out = ['Instant Readout (advertisements)', ''];
  for (const d of devices) {
    out.push(`  ${readoutDeviceTitle(d)}`);
    out.push(`    ${readoutDeviceSummary(d)}`);
    if (d.fields.length) {
      out.push(...table(['field', 'unit', 'readings', 'first', 'last', 'min', 'max'], d.fields.map((f) => [f.name, f.unit ?? '', String(f.count), f.first ?? '', f.last ?? '', f.min === undefined ? '' : String(f.min), f.max === undefined ? '' : String(f.max)])).map((l) => '  ' + l));
      for (const f of d.fields.filter((x) => x.changes.length > 1)) {
        const steps = f.changes.map((x) => `${isoTimeMs(x.ms).slice(11, 19)} ${x.text} (frame ${x.frame})`);
        out.push(`    ${f.name}: ${steps.join(' -> ')}${f.changesOmitted ? ` … and ${f.changesOmitted} more` : ''}`);
      }
    }
    out.push('');
  }
  return out;
}
