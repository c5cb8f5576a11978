/**
 * `vgatt report`: one page that explains a capture. A ReportBuilder consumes Victron records and
 * keeps, per connection, counts and per-register statistics; memory is bounded by the number of
 * registers (each chart is a ChartSeries: at most 4,000 min/max buckets), never by the number of messages.
 */
import type { CaptureWarning } from '../capture/types.js';
import type { GattDatabase, SessionEnd, SessionInfo } from '../bluetooth/types.js';
import type { SessionProfile, VictronRecord } from '../victron/index.js';
import { readoutToText, type ReadoutDeviceReport } from './readout.js';
import { isoTimeMs } from '../output/time.js';
import { victronText } from '../output/victron.js';
import { ChartSeries } from './series.js';
import { toHex } from '../util/cursor.js';

export { ReadoutReportBuilder, type ReadoutDeviceReport, type ReadoutFieldStats } from './readout.js';

const MAX_ISSUES = 500;
const MAX_SAMPLES = 5;
/** A register with at most this many distinct integer values, labelled or without a unit, is status-like. */
const MAX_STATES = 6;
const MAX_CHANGES = 200;
/** Recent intervals kept per register to know its polling. */
const RECENT = 15;

export interface RegisterStats {
  register: number;
  name?: string;
  unit?: string;
  count: number;
  first?: unknown;
  last?: unknown;
  min?: number;
  max?: number;
  /** Value sizes seen (bytes). */
  sizes: number[];
  /** Up to 5 distinct raw values (hex), for unknown registers. */
  samples: string[];
  /** [unix ms, value] points for the chart (ChartSeries: the lowest and highest reading of each bucket); a null value breaks the line (a gap or a new session). */
  points: [number, number | null][];
  /** Gaps longer than the register's polling explains, and session changes: where the line breaks. */
  breaks: number;
  /** Status-like (a handful of distinct integer values, with labels or without unit): drawn as steps, with its changes. */
  status: boolean;
  /** Labels of the values seen (enum names), by value. */
  labels: Record<string, string>;
  /** Value changes in time order (status-like registers), up to 200. */
  changes: { ms: number; frame: number; value: number; text?: string }[];
  changesOmitted: number;
}

type Counts = { message: number; control: number; unknown: number; padding: number };

/** One connection session of a device (connect -> disconnect): what `report` lists under the device. */
export interface SessionReport {
  session?: number;
  connection: number;
  /** The capture (when the run reads several). */
  file?: string;
  profile?: string;
  /** Why the profile was chosen (product id, GAP name, handle layout). */
  profileReason?: string;
  /** Frames of the connection and disconnection events (or first/last packet), when the ATT layer knows them. */
  startFrame?: number;
  endFrame?: number;
  /** Unix ms of the start and end of the session (events, else its first and last Victron record). */
  startMs?: number;
  endMs?: number;
  end?: SessionEnd;
  /** Frames of its first and last Victron record. */
  firstFrame?: number;
  lastFrame?: number;
  counts: Counts;
}

/** One device (peer address; a connection handle when the address is unknown), with its totals and sessions. */
export interface ConnectionReport {
  connection: number;
  device?: string;
  profile?: string;
  firstFrame: number;
  lastFrame: number;
  /** Totals over the device's sessions. */
  counts: Counts;
  /** In capture order; the sessions boundaries are where the charts break. */
  sessions: SessionReport[];
  registers: RegisterStats[];
  unknownRegisters: RegisterStats[];
  gatt?: GattDatabase;
}

export interface Issue {
  frame?: number;
  kind: string;
  message: string;
  hex?: string;
}

export interface Report {
  capture: string;
  format: string;
  generated: string;
  connections: ConnectionReport[];
  issues: Issue[];
  issuesOmitted: number;
  /** Victron Instant Readout adverts, per device (set by the caller from an advert pass). */
  instantReadout?: ReadoutDeviceReport[];
}

interface Series {
  stats: RegisterStats;
  chart: ChartSeries;
  lastUs?: number;
  lastSession?: number;
  lastValue?: number;
  /** The last RECENT intervals (µs), a ring: `recentN` of them, the next written at `recentAt`. */
  recent: Float64Array;
  recentN: number;
  recentAt: number;
  /** Distinct numeric values seen (up to MAX_STATES + 1), and whether one was not an integer. */
  distinct: Set<number>;
  fractional: boolean;
}

// Per reading: a scratch array instead of a sorted copy (the report reads millions of values).
const scratch = new Float64Array(RECENT);
function median(xs: Float64Array, n: number): number {
  scratch.set(xs);
  const s = scratch.subarray(0, n).sort();
  return s[Math.floor(n / 2)]!;
}

interface Conn {
  rep: ConnectionReport;
  regs: Map<number, Series>;
  sessions: Map<number | undefined, SessionReport & { firstUs: number; lastUs: number }>;
}

const zero = (): Counts => ({ message: 0, control: 0, unknown: 0, padding: 0 });

export class ReportBuilder {
  private conns = new Map<string, Conn>();
  private issues: Issue[] = [];
  private omitted = 0;

  constructor(
    private readonly capture: string,
    private readonly format: string,
  ) {}

  issue(i: Issue): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push(i);
    else this.omitted++;
  }

  warning(w: CaptureWarning): void {
    this.issue({ frame: w.frame, kind: `capture: ${w.code}`, message: w.message });
  }

  add(r: VictronRecord): void {
    // One entry per device: its sessions (reconnections) are listed under it.
    const key = r.device ?? `handle ${r.connection}`;
    let c = this.conns.get(key);
    if (!c) {
      c = { rep: { connection: r.connection, device: r.device, profile: r.profile, firstFrame: r.frame, lastFrame: r.frame, counts: zero(), sessions: [], registers: [], unknownRegisters: [] }, regs: new Map(), sessions: new Map() };
      this.conns.set(key, c);
    }
    const rep = c.rep;
    rep.lastFrame = r.file === undefined ? Math.max(rep.lastFrame, r.frame) : r.frame;
    rep.counts[r.kind]++;
    if (r.profile) rep.profile = r.profile;
    let ses = c.sessions.get(r.session);
    if (!ses) {
      ses = { connection: r.connection, counts: zero(), firstFrame: r.frame, lastFrame: r.frame, firstUs: r.timeUs, lastUs: r.timeUs };
      if (r.session !== undefined) ses.session = r.session;
      if (r.file !== undefined) ses.file = r.file;
      c.sessions.set(r.session, ses);
    }
    ses.counts[r.kind]++;
    ses.lastFrame = r.frame;
    ses.lastUs = r.timeUs;
    if (r.profile) ses.profile = r.profile;
    if (r.kind === 'unknown') this.issue({ frame: r.frame, kind: 'unknown bytes', message: `${r.reason ?? 'unknown'} (frames ${r.frames.join(', ')}, connection 0x${r.connection.toString(16).padStart(4, '0')})`, hex: Buffer.from(r.bytes).toString('hex') });
    if (r.kind !== 'message' || r.type !== 0x08 || r.register === undefined || !r.raw) return;
    let s = c.regs.get(r.register);
    if (!s) {
      s = { stats: { register: r.register, name: r.registerName, unit: r.unit, count: 0, sizes: [], samples: [], points: [], breaks: 0, status: false, labels: {}, changes: [], changesOmitted: 0 }, chart: new ChartSeries(), recent: new Float64Array(RECENT), recentN: 0, recentAt: 0, distinct: new Set(), fractional: false };
      c.regs.set(r.register, s);
    }
    const st = s.stats;
    st.count++;
    if (!st.sizes.includes(r.raw.length)) st.sizes.push(r.raw.length);
    if (st.samples.length < MAX_SAMPLES) {
      const rawHex = toHex(r.raw);
      if (!st.samples.includes(rawHex)) st.samples.push(rawHex);
    }
    const v = r.value;
    if (st.first === undefined) st.first = v;
    st.last = v;
    if (typeof v === 'number') {
      st.min = st.min === undefined ? v : Math.min(st.min, v);
      st.max = st.max === undefined ? v : Math.max(st.max, v);
      const ms = Math.round(r.timeUs / 1000);
      // A line must not join two values across a disconnect (another session) or a silence longer than the
      // register's polling explains: 3 typical intervals and at least 5 s more (60 s before the polling is known).
      const session = r.session;
      let brk = s.lastSession !== session && s.lastUs !== undefined;
      if (s.lastUs !== undefined && !brk) {
        const dt = r.timeUs - s.lastUs;
        const typical = s.recentN >= 3 ? median(s.recent, s.recentN) : undefined;
        brk = dt > (typical === undefined ? 60e6 : Math.max(3 * typical, typical + 5e6));
        if (!brk) {
          s.recent[s.recentAt] = dt;
          s.recentAt = (s.recentAt + 1) % RECENT;
          if (s.recentN < RECENT) s.recentN++;
        }
      }
      if (brk) {
        st.breaks++;
        s.chart.break(Math.round((s.lastUs! + r.timeUs) / 2000));
      }
      s.lastUs = r.timeUs;
      s.lastSession = session;
      s.chart.add(ms, v);
      if (!Number.isInteger(v)) s.fractional = true;
      if (s.distinct.size <= MAX_STATES) s.distinct.add(v);
      // The text (made on demand): for the labels of unit-less values, and for each change kept.
      const wantLabel = r.unit === undefined && Object.keys(st.labels).length <= MAX_STATES;
      const text = wantLabel || (v !== s.lastValue && st.changes.length < MAX_CHANGES) ? victronText(r) : undefined;
      if (wantLabel && text !== undefined && text !== String(v)) st.labels[String(v)] = text;
      if (v !== s.lastValue) {
        if (st.changes.length < MAX_CHANGES) st.changes.push({ ms, frame: r.frame, value: v, ...(text !== undefined ? { text } : {}) });
        else st.changesOmitted++;
        s.lastValue = v;
      }
    }
  }

  /**
   * The report. `sessions` (AttExtractor.sessions()) adds each session's connect/disconnect frames,
   * times and how it ended, and the device's sessions without Victron traffic; `profiles`
   * (VictronDecoder.sessionProfiles()) says why each session got its profile.
   */
  build(gatt: GattDatabase[] = [], sessions: SessionInfo[] = [], profiles: SessionProfile[] = []): Report {
    const connections: ConnectionReport[] = [];
    const infoOf = new Map(sessions.map((x) => [x.session, x]));
    const whyOf = new Map(profiles.map((x) => [x.session, x]));
    for (const c of this.conns.values()) {
      if (c.rep.device !== undefined) {
        // The device's sessions that carried no Victron record (e.g. connected and dropped at once).
        for (const x of sessions) if (x.device === c.rep.device && !c.sessions.has(x.session)) c.sessions.set(x.session, { session: x.session, connection: x.connection, counts: zero(), firstUs: x.startTimeUs, lastUs: x.endTimeUs ?? x.startTimeUs, ...(x.file !== undefined ? { file: x.file } : {}), firstFrame: undefined, lastFrame: undefined });
      }
      const list = [...c.sessions.values()].sort((a, b) => (a.session ?? 0) - (b.session ?? 0));
      c.rep.sessions = list.map(({ firstUs, lastUs, ...rest }) => {
        const out: SessionReport = { ...rest };
        if (out.firstFrame === undefined) delete out.firstFrame;
        if (out.lastFrame === undefined) delete out.lastFrame;
        const info = rest.session !== undefined ? infoOf.get(rest.session) : undefined;
        out.startMs = Math.round((info?.startTimeUs ?? firstUs) / 1000);
        out.endMs = Math.round((info?.endTimeUs ?? lastUs) / 1000);
        if (info) {
          out.startFrame = info.startFrame;
          if (info.endFrame !== undefined) out.endFrame = info.endFrame;
          if (info.end !== undefined) out.end = info.end;
        }
        const why = rest.session !== undefined ? whyOf.get(rest.session) : undefined;
        if (why?.reason) out.profileReason = why.reason;
        if (why?.profile && !out.profile) out.profile = why.profile;
        return out;
      });
      for (const s of c.regs.values()) {
        const st = s.stats;
        st.points = s.chart.points();
        st.status = !s.fractional && s.distinct.size >= 1 && s.distinct.size <= MAX_STATES && (st.unit === undefined || Object.keys(st.labels).length > 0);
        if (!st.status) {
          st.changes = [];
          st.changesOmitted = 0;
        }
      }
      const all = [...c.regs.values()].map((s) => s.stats).sort((a, b) => a.register - b.register);
      c.rep.registers = all.filter((s) => s.name !== undefined);
      c.rep.unknownRegisters = all.filter((s) => s.name === undefined);
      c.rep.gatt = gatt.find((g) => g.connection === c.rep.connection && g.device === c.rep.device) ?? gatt.find((g) => g.device !== undefined && g.device === c.rep.device);
      connections.push(c.rep);
    }
    connections.sort((a, b) => a.firstFrame - b.firstFrame);
    return { capture: this.capture, format: this.format, generated: new Date().toISOString(), connections, issues: this.issues, issuesOmitted: this.omitted };
  }
}

const h4 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(4, '0');
const show = (v: unknown): string => (v === undefined ? '' : v === null ? 'n/a' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.min(40, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (r: string[]) => '  ' + r.map((c, i) => (c.length > 40 ? c.slice(0, 39) + '…' : c).padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)];
}

const hms = (ms: number | undefined) => (ms === undefined ? '' : isoTimeMs(ms).slice(11, 19));
const span = (a?: number, b?: number) => (a === undefined ? '' : b === undefined || b === a ? String(a) : `${a}-${b}`);
const END_TEXT: Record<SessionEnd, string> = { disconnect: 'disconnect', reset: 'HCI reset', reconnect: 'new connection', 'file-gap': 'end of file', 'end-of-capture': 'end of capture' };

/** The sessions table of a device: handle, profile, frames, time span, counts, how it ended. */
export function sessionRows(c: ConnectionReport): string[][] {
  return c.sessions.map((s) => [
    String(s.session ?? '-'),
    '0x' + s.connection.toString(16).padStart(4, '0'),
    s.profile ?? '-',
    span(s.startFrame ?? s.firstFrame, s.endFrame ?? s.lastFrame) + (s.file ? ` (${s.file})` : ''),
    `${hms(s.startMs)}-${hms(s.endMs)}`,
    s.startMs !== undefined && s.endMs !== undefined ? `${((s.endMs - s.startMs) / 1000).toFixed(1)} s` : '',
    String(s.counts.message),
    String(s.counts.control),
    String(s.counts.unknown),
    String(s.counts.padding),
    s.end ? END_TEXT[s.end] : '',
  ]);
}

/** Per profile the device got: which sessions, and why (the first session's reason). */
export function profileReasons(c: ConnectionReport): string[] {
  const by = new Map<string, SessionReport[]>();
  for (const s of c.sessions) if (s.profile) by.set(s.profile, [...(by.get(s.profile) ?? []), s]);
  return [...by].map(([p, list]) => {
    const first = list.find((s) => s.profileReason);
    const which = by.size === 1 ? '' : ` in session${list.length > 1 ? 's' : ''} ${list.map((s) => s.session ?? '-').join(', ')}`;
    return `profile ${p}${which}: ${first ? `${first.profileReason}${c.sessions.length > 1 && first.session !== undefined ? ` (session ${first.session})` : ''}` : 'no reason recorded'}`;
  });
}

export const SESSION_HEAD = ['session', 'handle', 'profile', 'frames', 'time (UTC)', 'duration', 'messages', 'control', 'unknown', 'padding', 'ended by'];

export function reportToText(r: Report): string {
  const out: string[] = [`Report of ${r.capture} (${r.format})`, ''];
  if (r.connections.length === 0) out.push(r.instantReadout?.length ? 'No Victron GATT traffic in this capture (advertisements only).' : 'No Victron traffic found in this capture.', '');
  for (const c of r.connections) {
    const n = c.sessions.length;
    out.push(`Device ${c.device ?? `(address unknown, connection 0x${c.connection.toString(16).padStart(4, '0')})`}  profile ${c.profile ?? '-'}  ${n} session${n === 1 ? '' : 's'}`);
    out.push(`  total: ${c.counts.message} messages, ${c.counts.control} control, ${c.counts.unknown} unknown, ${c.counts.padding} padding`);
    for (const why of profileReasons(c)) out.push(`  ${why}`);
    if (n) out.push(...table(SESSION_HEAD, sessionRows(c)).map((l) => '  ' + l));
    if (c.gatt) for (const s of c.gatt.services) for (const ch of s.characteristics) out.push(`  GATT ${h4(ch.valueHandle)} ${ch.uuid} [${ch.propertyNames.join(', ')}]`);
    out.push('');
    if (c.registers.length) {
      out.push(...table(['register', 'name', 'unit', 'readings', 'first', 'last', 'min', 'max'], c.registers.map((s) => [h4(s.register), s.name ?? '', s.unit ?? '', String(s.count), show(s.first), show(s.last), show(s.min), show(s.max)])));
      out.push('');
    }
    const status = c.registers.filter((s) => s.status && s.changes.length > 1);
    if (status.length) {
      out.push('  Changes of status registers:');
      for (const s of status) {
        const steps = s.changes.map((x) => `${isoTimeMs(x.ms).slice(11, 19)} ${x.text ?? x.value} (frame ${x.frame})`);
        out.push(`  ${h4(s.register)} ${s.name ?? ''}: ${steps.join(' -> ')}${s.changesOmitted ? ` … and ${s.changesOmitted} more` : ''}`);
      }
      out.push('');
    }
    if (c.unknownRegisters.length) {
      out.push('  Unknown registers (not in any profile):');
      out.push(...table(['register', 'readings', 'sizes', 'sample raw values'], c.unknownRegisters.map((s) => [h4(s.register), String(s.count), s.sizes.join(','), s.samples.join(' ')])));
      out.push('');
    }
  }
  out.push(...readoutToText(r.instantReadout ?? [], table));
  if (r.issues.length) {
    out.push('Unknown bytes and warnings:');
    for (const i of r.issues) out.push(`  ${i.frame !== undefined ? `frame ${i.frame}: ` : ''}${i.kind}: ${i.message}${i.hex ? `  [${i.hex}]` : ''}`);
    if (r.issuesOmitted) out.push(`  … and ${r.issuesOmitted} more`);
  }
  return out.join('\n') + '\n';
}
