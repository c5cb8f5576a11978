/**
 * `vgatt diff`: what changed between two captures, per device. A capture is first reduced to a
 * protocol summary per device (GATT layout, control writes, init sequence, registers requested and
 * answered, unknowns, value sizes and ranges, polling intervals); two summaries are then compared.
 * Pure functions: the CLI feeds them records from the pipeline.
 */
import type { GattDatabase, SessionEnd, SessionInfo } from '../bluetooth/types.js';
import type { VictronRecord } from '../victron/index.js';
import { toHex as hex } from '../util/cursor.js';

export interface DeviceSummary {
  /** Peer address, when the capture has the connection event. */
  device?: string;
  profile: string;
  /** Connection sessions with Victron traffic. */
  connections: number;
  /** "0x0027 306b0004-…" per discovered attribute with a value handle (services and characteristics). */
  gatt: string[];
  /** Host writes on Control, in order of first appearance. */
  controlWrites: string[];
  /**
   * The app's requests after connecting, in order (e.g. "get values inst 3 0xED8D"), up to the first
   * value burst (the first value no request asked for): of the first session that has its connection
   * event in the capture and reached its value burst (else the first session that has requests).
   */
  initSequence: string[];
  /** The session `initSequence` comes from. */
  initSession?: number;
  /** Per session: its frames, how many init requests, whether the init ran to the first value burst, how the session ended. */
  sessions: SessionSummary[];
  requested: number[];
  answered: number[];
  unknownRegisters: number[];
  messageTypes: number[];
  unknownRecords: number;
  /** Register -> value sizes seen. */
  valueSizes: Record<string, number[]>;
  /** Register -> [min, max] of numeric values. */
  valueRanges: Record<string, [number, number]>;
  /** Register -> median interval between its values, ms (registers seen at least 3 times). */
  pollIntervalsMs: Record<string, number>;
  /** Register -> its name in the device's profile (registers the profile names). */
  registerNames: Record<string, string>;
}

export interface SessionSummary {
  session?: number;
  /** Frames of the session's first and last Victron record (its capture's numbering). */
  frames: string;
  file?: string;
  /** Init requests seen (up to the first value burst). */
  initRequests: number;
  /** The init reached the first value burst (the device started sending values on its own). */
  initComplete: boolean;
  /** The session began before the capture (no connection event): its init is unknown. */
  beganBeforeCapture: boolean;
  end?: SessionEnd;
  /** Its complete init equals the device's init sequence. */
  sameInit?: boolean;
}

interface SessionState {
  session?: number;
  init: string[];
  complete: boolean;
  first: number;
  last: number;
  file?: string;
}

const MAX_INIT = 2000;
const MAX_SESSIONS = 1000;

export interface DiffOptions {
  ignoreValues?: boolean;
  ignoreTiming?: boolean;
}

const h4 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(4, '0');

/** Builds per-device summaries incrementally (memory bounded by registers and the init sequence). */
export class CaptureSummarizer {
  private devices = new Map<string, DeviceSummary & { ses: Map<number | undefined, SessionState>; firstConn?: string; lastTime: Map<number, number>; intervals: Map<number, number[]>; req: Set<number>; ans: Set<number>; unk: Set<number>; types: Set<number>; sizes: Map<number, Set<number>>; ctl: Set<string>; names: Map<number, string> }>();

  private key(r: { device?: string; connection: number }): string {
    return r.device ?? `connection ${r.connection}`;
  }

  add(r: VictronRecord): void {
    const k = this.key(r);
    let d = this.devices.get(k);
    if (!d) {
      d = {
        device: r.device, profile: r.profile ?? 'common', connections: 0, gatt: [], controlWrites: [], initSequence: [], sessions: [], requested: [], answered: [], unknownRegisters: [], messageTypes: [], unknownRecords: 0,
        valueSizes: {}, valueRanges: {}, pollIntervalsMs: {}, registerNames: {},
        ses: new Map(), lastTime: new Map(), intervals: new Map(), req: new Set(), ans: new Set(), unk: new Set(), types: new Set(), sizes: new Map(), ctl: new Set(), names: new Map(),
      };
      this.devices.set(k, d);
    }
    // Bounded: past MAX_SESSIONS sessions, the rest share one entry (their inits are not compared).
    const sk = d.ses.size < MAX_SESSIONS || d.ses.has(r.session) ? r.session : -1;
    let ses = d.ses.get(sk);
    if (!ses) {
      ses = { init: [], complete: true, first: r.frame, last: r.frame, ...(sk !== undefined ? { session: sk } : {}), ...(r.file !== undefined ? { file: r.file } : {}) };
      if (sk !== -1) ses.complete = false;
      d.firstConn ??= String(r.connection);
      d.ses.set(sk, ses);
    }

    ses.last = r.frame;
    if (r.profile) d.profile = r.profile;
    if (r.kind === 'unknown') d.unknownRecords++;
    if (r.kind === 'control' && r.direction === 'host-to-device') {
      const x = hex(r.bytes);
      if (!d.ctl.has(x)) {
        d.ctl.add(x);
        d.controlWrites.push(x);
      }
    }
    if (r.kind !== 'message' || r.type === undefined) return;
    d.types.add(r.type);
    // The init: the app's requests after connecting, until the device sends a value nobody asked for.
    if (!ses.complete) {
      if (r.direction === 'host-to-device') {
        if (ses.init.length < MAX_INIT) ses.init.push(`${r.typeName} inst ${r.instance ?? '-'}${r.register !== undefined ? ' ' + h4(r.register) : ''}${r.type === 0x06 && r.raw ? ' = ' + hex(r.raw) : ''}`);
      } else if (r.type === 0x08 && r.request === undefined) ses.complete = true;
    }
    if (r.register === undefined) return;
    if (r.registerName !== undefined && !d.names.has(r.register)) d.names.set(r.register, r.registerName);
    if (r.type === 0x05 || r.type === 0x06) d.req.add(r.register);
    if (r.type === 0x08 || r.type === 0x09) d.ans.add(r.register);
    if ((r.type === 0x08 || r.type === 0x06) && r.registerName === undefined) d.unk.add(r.register);
    if (r.type === 0x08 && r.raw) {
      const s = d.sizes.get(r.register) ?? new Set<number>();
      s.add(r.raw.length);
      d.sizes.set(r.register, s);
      if (typeof r.value === 'number') {
        const k2 = h4(r.register);
        const cur = d.valueRanges[k2];
        d.valueRanges[k2] = cur ? [Math.min(cur[0], r.value), Math.max(cur[1], r.value)] : [r.value, r.value];
      }
      const last = d.lastTime.get(r.register);
      if (last !== undefined) {
        const list = d.intervals.get(r.register) ?? [];
        if (list.length < 1000) list.push((r.timeUs - last) / 1000);
        d.intervals.set(r.register, list);
      }
      d.lastTime.set(r.register, r.timeUs);
    }
  }

  /** Final summaries; `gatt` from the ATT layer's databases, `sessions` from AttExtractor.sessions() (how each session began and ended). */
  summaries(gatt: GattDatabase[] = [], sessionInfo: SessionInfo[] = []): DeviceSummary[] {
    const out: DeviceSummary[] = [];
    const infoOf = new Map(sessionInfo.map((x) => [x.session, x]));
    for (const d of this.devices.values()) {
      d.connections = d.ses.size;
      // The device's sessions without Victron traffic count too (a connection dropped at once is a cut-short init).
      if (d.device !== undefined) for (const x of sessionInfo) if (x.device === d.device && !d.ses.has(x.session) && d.ses.size < MAX_SESSIONS) d.ses.set(x.session, { session: x.session, init: [], complete: false, first: x.startFrame, last: x.endFrame ?? x.startFrame, ...(x.file !== undefined ? { file: x.file } : {}) });
      const list = [...d.ses.values()].sort((a, b) => (a.session ?? 0) - (b.session ?? 0));
      const began = (x: SessionState) => (x.session !== undefined ? infoOf.get(x.session)?.connected !== false : true);
      const rep = list.find((x) => began(x) && x.complete) ?? list.find((x) => began(x) && x.init.length > 0) ?? list.find((x) => x.init.length > 0);
      d.initSequence = rep?.init ?? [];
      if (rep?.session !== undefined) d.initSession = rep.session;
      d.sessions = list.map((x) => {
        const info = x.session !== undefined ? infoOf.get(x.session) : undefined;
        const frames = info ? `${info.startFrame}-${info.endFrame ?? x.last}` : `${x.first}-${x.last}`;
        const o: SessionSummary = { ...(x.session !== undefined ? { session: x.session } : {}), frames, initRequests: x.init.length, initComplete: x.complete, beganBeforeCapture: info?.connected === false };
        if (x.file !== undefined) o.file = x.file;
        if (info?.end) o.end = info.end;
        if (x.complete && rep) o.sameInit = x.init.length === rep.init.length && x.init.every((v, i) => v === rep.init[i]);
        return o;
      });
      const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
      const db = gatt.find((g) => g.device !== undefined && g.device === d.device) ?? (d.device === undefined ? gatt.find((g) => String(g.connection) === d.firstConn) : undefined);
      const layout: string[] = [];
      for (const s of db?.services ?? []) {
        layout.push(`${h4(s.startHandle)} service ${s.uuid}`);
        for (const c of s.characteristics) layout.push(`${h4(c.valueHandle)} ${c.uuid} [${c.propertyNames.join(',')}]`);
      }
      const poll: Record<string, number> = {};
      for (const [reg, list] of d.intervals) {
        if (list.length < 2) continue;
        const s = [...list].sort((a, b) => a - b);
        poll[h4(reg)] = Math.round(s[Math.floor(s.length / 2)]!);
      }
      const sizes: Record<string, number[]> = {};
      for (const [reg, s] of [...d.sizes].sort((a, b) => a[0] - b[0])) sizes[h4(reg)] = sorted(s);
      const names: Record<string, string> = {};
      for (const [reg, n] of [...d.names].sort((a, b) => a[0] - b[0])) names[h4(reg)] = n;
      out.push({
        device: d.device, profile: d.profile, connections: d.connections, gatt: layout, controlWrites: d.controlWrites, initSequence: d.initSequence, ...(d.initSession !== undefined ? { initSession: d.initSession } : {}), sessions: d.sessions,
        requested: sorted(d.req), answered: sorted(d.ans), unknownRegisters: sorted(d.unk), messageTypes: sorted(d.types), unknownRecords: d.unknownRecords,
        valueSizes: sizes, valueRanges: d.valueRanges, pollIntervalsMs: poll, registerNames: names,
      });
    }
    return out;
  }
}

/** One section of the report: lines prefixed "+" (only in b), "-" (only in a), " " (context). */
export interface DiffSection {
  title: string;
  lines: string[];
}

export interface DeviceDiff {
  a?: string;
  b?: string;
  sections: DiffSection[];
  /** Facts that are not differences: which session gave the init sequence, sessions cut short. */
  notes?: string[];
}

export interface CaptureDiff {
  equivalent: boolean;
  devices: DeviceDiff[];
}

/**
 * Sequence diff by longest common subsequence. Hand-written: the sequences are short (an init
 * sequence is tens to hundreds of requests) and the O(n·m) table is simpler than pulling a text-diff
 * library for arrays of strings.
 */
export function sequenceDiff(a: string[], b: string[]): string[] {
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return [...a.map((x) => `- ${x}`), ...b.map((x) => `+ ${x}`)];
  const t: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) t[i]![j] = a[i] === b[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j < m && (i === n || t[i]![j + 1]! >= t[i + 1]![j]!)) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out;
}

function setDiff(title: string, a: (string | number)[], b: (string | number)[], fmt: (x: string | number) => string = String): DiffSection | undefined {
  const A = new Set(a.map(fmt));
  const B = new Set(b.map(fmt));
  const lines = [...[...A].filter((x) => !B.has(x)).map((x) => `- ${x}`), ...[...B].filter((x) => !A.has(x)).map((x) => `+ ${x}`)];
  return lines.length ? { title, lines } : undefined;
}

function seqSection(title: string, a: string[], b: string[]): DiffSection | undefined {
  const d = sequenceDiff(a, b);
  if (!d.some((l) => l[0] !== ' ')) return undefined;
  // Keep changed lines with 2 lines of context.
  const keep = new Set<number>();
  d.forEach((l, i) => {
    if (l[0] !== ' ') for (let k = i - 2; k <= i + 2; k++) keep.add(k);
  });
  const lines: string[] = [];
  let last = -1;
  d.forEach((l, i) => {
    if (!keep.has(i)) return;
    if (last >= 0 && i > last + 1) lines.push('  …');
    lines.push(l);
    last = i;
  });
  return { title, lines };
}

const regName = (x: string | number) => (typeof x === 'number' ? h4(x) : x);
const typeName = (x: string | number) => `0x${Number(x).toString(16).padStart(2, '0')}`;

/** What the reader should know about the sessions behind the init sequence: which one, and which were cut short. */
export function sessionNotes(which: string, s: DeviceSummary): string[] {
  const notes: string[] = [];
  const at = (x: SessionSummary) => `session ${x.session ?? '-'} (frames ${x.frames}${x.file ? ` of ${x.file}` : ''})`;
  const rep = s.sessions.find((x) => x.session === s.initSession);
  if (rep) notes.push(`${which}: init sequence of ${at(rep)}, ${s.initSequence.length} request(s)${rep.initComplete ? '' : ', never reached a value burst'}`);
  for (const x of s.sessions) {
    if (x === rep) continue;
    const ended = x.end === 'disconnect' ? 'a disconnect' : x.end === 'reset' ? 'an HCI reset' : x.end === 'reconnect' ? 'a new connection' : x.end === 'file-gap' ? 'the end of its file' : 'the end of the capture';
    if (x.beganBeforeCapture) notes.push(`${which}: ${at(x)} began before the capture (no connection event): its init is unknown`);
    else if (!x.initComplete) notes.push(`${which}: ${at(x)} was cut short by ${ended} before its first value burst (${x.initRequests} request(s))`);
    else if (x.sameInit === false) notes.push(`${which}: ${at(x)} had another init sequence (${x.initRequests} request(s))`);
  }
  return notes;
}

export function diffDevice(a: DeviceSummary | undefined, b: DeviceSummary | undefined, opts: DiffOptions = {}): DeviceDiff {
  const label = (s?: DeviceSummary) => (s ? `${s.device ?? 'unknown address'} (${s.profile})` : undefined);
  const out: DeviceDiff = { a: label(a), b: label(b), sections: [] };
  if (!a || !b) {
    out.sections.push({ title: 'device', lines: [a ? `- ${label(a)} only in the first capture` : `+ ${label(b)} only in the second capture`] });
    return out;
  }
  const push = (s: DiffSection | undefined) => s && out.sections.push(s);
  if (a.profile !== b.profile) push({ title: 'profile', lines: [`- ${a.profile}`, `+ ${b.profile}`] });
  if (a.gatt.length && b.gatt.length) push(seqSection('GATT layout (handles and UUIDs)', a.gatt, b.gatt));
  push(seqSection('Control writes', a.controlWrites, b.controlWrites));
  push(seqSection('init sequence (requests after connecting, up to the first value burst)', a.initSequence, b.initSequence));
  out.notes = [...sessionNotes('first capture', a), ...sessionNotes('second capture', b)];
  push(setDiff('registers requested', a.requested, b.requested, regName));
  push(setDiff('registers answered', a.answered, b.answered, regName));
  push(setDiff('unknown registers', a.unknownRegisters, b.unknownRegisters, regName));
  push(setDiff('message types', a.messageTypes, b.messageTypes, typeName));
  const sizes: string[] = [];
  for (const reg of new Set([...Object.keys(a.valueSizes), ...Object.keys(b.valueSizes)])) {
    const x = (a.valueSizes[reg] ?? []).join(',');
    const y = (b.valueSizes[reg] ?? []).join(',');
    if (x && y && x !== y) sizes.push(`- ${reg} ${x} byte(s)`, `+ ${reg} ${y} byte(s)`);
  }
  if (sizes.length) push({ title: 'value sizes', lines: sizes });
  if (!opts.ignoreValues) {
    const ranges: string[] = [];
    for (const reg of new Set([...Object.keys(a.valueRanges), ...Object.keys(b.valueRanges)])) {
      const x = a.valueRanges[reg];
      const y = b.valueRanges[reg];
      if (x && y && (x[0] !== y[0] || x[1] !== y[1])) ranges.push(`- ${reg} ${x[0]} .. ${x[1]}`, `+ ${reg} ${y[0]} .. ${y[1]}`);
    }
    if (ranges.length) push({ title: 'value ranges', lines: ranges });
  }
  if (!opts.ignoreTiming) {
    const poll: string[] = [];
    for (const reg of new Set([...Object.keys(a.pollIntervalsMs), ...Object.keys(b.pollIntervalsMs)])) {
      const x = a.pollIntervalsMs[reg];
      const y = b.pollIntervalsMs[reg];
      // Radio timing jitters: only a change of more than 25% is a different polling rate.
      if (x !== undefined && y !== undefined && Math.abs(x - y) > 0.25 * Math.max(x, y)) poll.push(`- ${reg} every ${x} ms`, `+ ${reg} every ${y} ms`);
    }
    if (poll.length) push({ title: 'polling intervals (median between values)', lines: poll });
  }
  return out;
}

/** Matches devices by profile and address, then the rest by order, and compares each pair. */
export function diffSummaries(a: DeviceSummary[], b: DeviceSummary[], opts: DiffOptions = {}): CaptureDiff {
  const pairs: [DeviceSummary | undefined, DeviceSummary | undefined][] = [];
  const restB = [...b];
  const restA: DeviceSummary[] = [];
  for (const x of a) {
    const i = restB.findIndex((y) => y.device !== undefined && y.device === x.device && y.profile === x.profile);
    if (i >= 0) pairs.push([x, restB.splice(i, 1)[0]]);
    else restA.push(x);
  }
  for (const x of restA) {
    const i = restB.findIndex((y) => y.profile === x.profile);
    pairs.push([x, i >= 0 ? restB.splice(i, 1)[0] : restB.shift()]);
  }
  for (const y of restB) pairs.push([undefined, y]);
  const devices = pairs.map(([x, y]) => nameRegisters(diffDevice(x, y, opts), x, y));
  return { equivalent: devices.every((d) => d.sections.length === 0), devices };
}

/** Sections whose 0xNNNN are handles or bytes, not registers. */
const NOT_REGISTERS = new Set(['GATT layout (handles and UUIDs)', 'Control writes', 'device', 'profile', 'message types']);

/**
 * Puts each register's name next to its number in the difference lines (`0xEC66 BLE MAC address`), from the
 * profiles of both captures; the comparison itself is made on numbers.
 */
export function nameRegisters(d: DeviceDiff, a: DeviceSummary | undefined, b: DeviceSummary | undefined): DeviceDiff {
  const names = { ...(a?.registerNames ?? {}), ...(b?.registerNames ?? {}) };
  const name = (line: string) => line.replace(/\b0x[0-9A-F]{4}\b/g, (reg) => (names[reg] ? `${reg} ${names[reg]}` : reg));
  return { ...d, sections: d.sections.map((s) => (NOT_REGISTERS.has(s.title) ? s : { title: s.title, lines: s.lines.map(name) })) };
}

export function diffToText(d: CaptureDiff, opts: { color?: boolean } = {}): string {
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines: string[] = [];
  if (d.equivalent) lines.push('The captures are protocol-equivalent.');
  for (const dev of d.devices) {
    lines.push(c('1', `Device ${dev.a ?? '(none)'}  vs  ${dev.b ?? '(none)'}`) + (dev.sections.length ? '' : ': no difference'));
    for (const n of dev.notes ?? []) lines.push(`  note: ${n}`);
    for (const s of dev.sections) {
      lines.push(`  ${s.title}:`);
      for (const l of s.lines) lines.push('    ' + (l[0] === '+' ? c('32', l) : l[0] === '-' ? c('31', l) : l));
    }
  }
  return lines.join('\n') + '\n';
}
