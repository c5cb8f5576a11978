/**
 * `vgatt doctor`: what a capture holds and why there may be no Victron data, in plain words, each
 * finding with its evidence (frames, counts). A CaptureDoctor watches the HCI records, the sessions
 * and the Victron records of one run; pure: the wiring (files, pipeline) is in run.ts.
 */
import { HciPacketType, type CaptureWarning, type HciRecord } from '../capture/types.js';
import type { GattDatabase, SessionInfo } from '../bluetooth/types.js';
import type { SessionProfile, UnansweredRequest, VictronRecord } from '../victron/index.js';
import { AdvertParser, VICTRON_COMPANY_ID } from '../adverts/index.js';
import { recordTable } from '../adverts/records.js';
import { CaptureKeys } from '../adverts/readout.js';
import { productName } from '../profiles/products.js';

export type FindingLevel = 'ok' | 'info' | 'warning' | 'error';

export interface Finding {
  /** Stable id for scripts: victron-gatt, not-a-capture, damaged, filtered-log, summary, no-acl, no-connections, connections-without-att, encrypted, adverts-only, adverts-no-key, adverts-key, other-gatt, no-victron. */
  code: string;
  level: FindingLevel;
  /** One sentence. */
  title: string;
  /** Evidence and advice, one line each. */
  details: string[];
}

export interface DoctorInput {
  path: string;
  format?: string;
  linkType?: string;
  records: number;
  complete: boolean;
}

export interface DoctorSession {
  session: number;
  /** The capture the session began in, and the one it ended in when another (several captures read). */
  file?: string;
  endFile?: string;
  connection: number;
  device?: string;
  frames: string;
  durationS?: number;
  end?: string;
  attPdus: number;
  encryptedFrame?: number;
  victron?: { profile?: string; reason?: string; name?: string; handles?: { control: number; lastData: number; data: number }; messages: number; control: number; unknown: number; padding: number; unknownBytes: number; unanswered: number };
}

export interface AdvertDevice {
  address: string;
  name?: string;
  productId?: number;
  productName?: string;
  recordTypes: { type: number; name?: string }[];
  /** Key check bytes of its encrypted Instant Readout records (first byte of the key they need). */
  keyChecks: number[];
  /** Where a key that fits came from (a 0xEC65 value in the capture: "frame N"); absent when none does. */
  keySource?: string;
  adverts: number;
  firstFrame: number;
  lastFrame: number;
  file?: string;
}

export interface DoctorReport {
  inputs: DoctorInput[];
  hci: { commands: number; events: number; acl: number; sco: number; iso: number; other: number; advertisingReports: number; connectionEvents: number };
  sessions: DoctorSession[];
  victronAdverts: AdvertDevice[];
  findings: Finding[];
  /** Victron GATT data found. */
  victron: boolean;
  /** 0 Victron GATT data found, 1 error (not a capture), 3 no Victron GATT data. */
  exitCode: 0 | 1 | 3;
}

const h4 = (n: number) => '0x' + n.toString(16).padStart(4, '0');

/** "frames 20-85", with the captures when the run read several ("frames 837 of a.log.last - 9241 of a.log"). */
function where(s: DoctorSession): string {
  if (!s.file) return `frames ${s.frames}`;
  const [a, b] = s.frames.split('-');
  return s.endFile ? `frames ${a} of ${s.file} - ${b} of ${s.endFile}` : `frames ${s.frames} of ${s.file}`;
}
const MAX_ADVERT_DEVICES = 1000;
const MAX_NAMES = 10_000;

export class CaptureDoctor {
  private hci = { commands: 0, events: 0, acl: 0, sco: 0, iso: 0, other: 0, advertisingReports: 0, connectionEvents: 0 };
  private adverts = new AdvertParser();
  private advertDevices = new Map<string, AdvertDevice & { types: Set<number>; checks: Set<number> }>();
  /** Advertisement keys the app read from devices (register 0xEC65), to say whether the adverts can be decrypted. */
  private keys = new CaptureKeys();
  private names = new Map<string, string>();
  private perSession = new Map<number, { messages: number; control: number; unknown: number; padding: number; unknownBytes: number }>();
  private file: string | undefined;

  /** Every HCI record of the run, in order. `file` names its capture when the run reads several. */
  record(rec: HciRecord, file?: string): void {
    this.file = file;
    switch (rec.packetType) {
      case HciPacketType.Command:
        this.hci.commands++;
        return;
      case HciPacketType.AclData:
        this.hci.acl++;
        return;
      case HciPacketType.ScoData:
        this.hci.sco++;
        return;
      case HciPacketType.IsoData:
        this.hci.iso++;
        return;
      case HciPacketType.Event:
        break;
      default:
        this.hci.other++;
        return;
    }
    this.hci.events++;
    const code = rec.data[0];
    const sub = rec.data[2];
    if (code === 0x3e && (sub === 0x01 || sub === 0x0a || sub === 0x29)) this.hci.connectionEvents++;
    if (code === 0x03) this.hci.connectionEvents++;
    if (code !== 0x3e || (sub !== 0x02 && sub !== 0x0d)) return;
    this.hci.advertisingReports++;
    for (const a of this.adverts.push(rec)) {
      // Names often come in scan responses without the manufacturer data: kept for every address (bounded).
      if (a.localName && (this.names.has(a.address) || this.names.size < MAX_NAMES)) this.names.set(a.address, a.localName);
      if (!a.manufacturer.some((m) => m.companyId === VICTRON_COMPANY_ID)) continue;
      let d = this.advertDevices.get(a.address);
      if (!d) {
        if (this.advertDevices.size >= MAX_ADVERT_DEVICES) continue;
        d = { address: a.address, recordTypes: [], keyChecks: [], types: new Set(), checks: new Set(), adverts: 0, firstFrame: a.frame, lastFrame: a.frame, ...(file !== undefined ? { file } : {}) };
        this.advertDevices.set(a.address, d);
      }
      d.adverts++;
      d.lastFrame = a.frame;
      const f = a.victron;
      if (f?.productId !== undefined && f.problem !== 'not a product advertisement') d.productId = f.productId;
      if (f?.recordType !== undefined) d.types.add(f.recordType);
      if (f?.keyCheck !== undefined && f.problem === undefined && d.checks.size < 8) d.checks.add(f.keyCheck);
    }
  }

  /** Every Victron record of the run. */
  victron(r: VictronRecord): void {
    this.keys.add(r);
    if (r.session === undefined) return;
    let s = this.perSession.get(r.session);
    if (!s) {
      s = { messages: 0, control: 0, unknown: 0, padding: 0, unknownBytes: 0 };
      this.perSession.set(r.session, s);
    }
    if (r.kind === 'message') s.messages++;
    else if (r.kind === 'control') s.control++;
    else if (r.kind === 'padding') s.padding++;
    else {
      s.unknown++;
      s.unknownBytes += r.bytes.length;
    }
  }

  finish(run: {
    inputs: DoctorInput[];
    warnings: CaptureWarning[];
    sessions: SessionInfo[];
    profiles: SessionProfile[];
    unanswered: UnansweredRequest[];
    gatt: GattDatabase[];
  }): DoctorReport {
    void this.file;
    const findings: Finding[] = [];
    const profileOf = new Map(run.profiles.map((p) => [p.session, p]));
    const unansweredOf = new Map<number, number>();
    for (const u of run.unanswered) if (u.session !== undefined) unansweredOf.set(u.session, (unansweredOf.get(u.session) ?? 0) + 1);
    const sessions: DoctorSession[] = run.sessions.map((s) => {
      const o: DoctorSession = { session: s.session, connection: s.connection, frames: `${s.startFrame}-${s.endFrame ?? '?'}`, attPdus: s.attPdus };
      if (s.file !== undefined) o.file = s.file;
      if (s.endFile !== undefined && s.endFile !== s.file) o.endFile = s.endFile;
      if (s.device !== undefined) o.device = s.device;
      if (s.endTimeUs !== undefined) o.durationS = Math.round((s.endTimeUs - s.startTimeUs) / 1e5) / 10;
      if (s.end) o.end = s.end === 'disconnect' && s.reason !== undefined ? `disconnect (reason 0x${s.reason.toString(16).padStart(2, '0')})` : s.end;
      if (s.encryptedFrame !== undefined) o.encryptedFrame = s.encryptedFrame;
      const counts = this.perSession.get(s.session);
      const p = profileOf.get(s.session);
      if (counts && counts.messages + counts.control > 0) {
        o.victron = { ...counts, unanswered: unansweredOf.get(s.session) ?? 0 };
        if (p?.profile) o.victron.profile = p.profile;
        if (p?.reason) o.victron.reason = p.reason;
        if (p?.name) o.victron.name = p.name;
        if (p?.handles) o.victron.handles = p.handles;
      }
      return o;
    });
    const victronSessions = sessions.filter((s) => s.victron);
    const table = recordTable();
    const victronAdverts = [...this.advertDevices.values()].map(({ types, checks, ...d }) => {
      d.keyChecks = [...checks].sort((a, b) => a - b);
      for (const c of d.keyChecks) {
        const k = this.keys.find(d.address, c);
        if (k) d.keySource = k.source;
      }
      const name = this.names.get(d.address);
      if (name !== undefined) d.name = name;
      d.recordTypes = [...types].sort((a, b) => a - b).map((t) => ({ type: t, ...(table.records.get(t) ? { name: table.records.get(t)!.name } : {}) }));
      if (d.productId !== undefined) {
        const n = productName(d.productId);
        if (n) d.productName = n;
      }
      return d;
    });

    // Damage, filtered logs, summaries: what the capture itself says.
    const damage = run.warnings.filter((w) => w.code === 'truncated-file' || w.code === 'bad-record');
    if (damage.length) findings.push({ code: 'damaged', level: 'warning', title: `The capture is damaged: reading stopped at byte offset ${damage[0]!.fileOffset ?? '?'}; every complete record before it was read.`, details: damage.map((w) => `${w.file ? `${w.file}: ` : ''}${w.message}`) });
    const filtered = run.warnings.find((w) => w.code === 'filtered-log');
    if (filtered) findings.push({ code: 'filtered-log', level: 'warning', title: 'This is an Android *filtered* snoop log: every ACL packet is cut to a few bytes, so Victron messages cannot be decoded.', details: [`first cut ACL packet: frame ${filtered.frame}${filtered.file ? ` of ${filtered.file}` : ''}`, 'Switch to the full log: Developer options > Enable Bluetooth HCI snoop log > Enabled (not "Filtered"), turn Bluetooth off and on, use the app again, then `adb bugreport`.'] });
    const summary = run.warnings.find((w) => w.code === 'summary');
    if (summary) findings.push({ code: 'summary', level: 'warning', title: 'This is a btsnooz summary from a bug report text: only the most recent packets, ACL payloads cut.', details: [summary.message] });

    const h = this.hci;
    const total = run.inputs.reduce((n, i) => n + i.records, 0);
    if (total > 0 && h.acl === 0) {
      findings.push({
        code: 'no-acl',
        level: 'warning',
        title: 'Only HCI commands and events, no ACL data: no connection carried any data in this capture.',
        details: [
          `${h.commands} command(s), ${h.events} event(s) (${h.advertisingReports} LE advertising report event(s), ${h.connectionEvents} connection event(s)), 0 ACL packets`,
          h.connectionEvents === 0 ? 'The phone or laptop only scanned: connect to the device in the app while the log is recording.' : 'Connections were made but no data crossed them while the log was recording.',
        ],
      });
    }
    const noAtt = sessions.filter((s) => s.attPdus === 0);
    if (noAtt.length) {
      findings.push({
        code: 'connections-without-att',
        level: 'info',
        title: `${noAtt.length} connection session(s) without any ATT PDU (connected, nothing exchanged over GATT).`,
        details: noAtt.slice(0, 20).map((s) => `session ${s.session}: ${s.device ?? 'address unknown'} on handle ${h4(s.connection)}, ${where(s)}${s.durationS !== undefined ? `, ${s.durationS} s` : ''}${s.end ? `, ended by ${s.end}` : ''}`).concat(noAtt.length > 20 ? [`… and ${noAtt.length - 20} more`] : []),
      });
    }
    const encrypted = sessions.filter((s) => s.encryptedFrame !== undefined);
    if (encrypted.length) {
      findings.push({
        code: 'encrypted',
        level: 'info',
        title: `${encrypted.length} session(s) encrypted the link: that is fine, an HCI snoop log sees the data before encryption (plaintext).`,
        details: encrypted.slice(0, 20).map((s) => `session ${s.session}: Encryption Change in frame ${s.encryptedFrame}`),
      });
    }
    const connectedDevices = new Set(sessions.filter((s) => s.device).map((s) => s.device!));
    const advertOnly = victronAdverts.filter((d) => !connectedDevices.has(d.address));
    if (advertOnly.length) {
      findings.push({
        code: 'adverts-only',
        level: 'info',
        title: `${advertOnly.length} Victron device(s) seen only in advertisements (manufacturer id 0x02E1, "Instant Readout": a different protocol, decoded by \`vgatt adverts\`, not over GATT).`,
        details: advertOnly.slice(0, 20).map(
          (d) =>
            `${d.address}${d.name ? ` "${d.name}"` : ''}${d.productId !== undefined ? `, product 0x${d.productId.toString(16).toUpperCase().padStart(4, '0')}${d.productName ? ` ${d.productName}` : ''}` : ''}${d.recordTypes.length ? `, record type ${d.recordTypes.map((t) => `0x${t.type.toString(16).padStart(2, '0')}${t.name ? ` (${t.name})` : ''}`).join(', ')}` : ''}: ${d.adverts} advert(s), frames ${d.firstFrame}-${d.lastFrame}`,
        ),
      });
    }
    const encryptedAdverts = victronAdverts.filter((d) => d.keyChecks.length > 0);
    if (encryptedAdverts.length) {
      const keyed = encryptedAdverts.filter((d) => d.keySource);
      const keyless = encryptedAdverts.filter((d) => !d.keySource);
      findings.push({
        code: keyless.length ? 'adverts-no-key' : 'adverts-key',
        level: 'info',
        title: keyless.length
          ? `${keyless.length} Victron device(s) send encrypted Instant Readout adverts and the capture holds no key for them: \`vgatt adverts --key ADDRESS=KEY\` decrypts them (VictronConnect shows the key: device > Product info > Instant Readout > Show).`
          : `The Instant Readout adverts of ${keyed.length} Victron device(s) can be decrypted with the key the app read from the device (register 0xEC65): \`vgatt adverts\` uses it.`,
        details: encryptedAdverts.slice(0, 20).map((d) => `${d.address}: key check byte ${d.keyChecks.map((c) => `0x${c.toString(16).padStart(2, '0')}`).join(', ')}; ${d.keySource ? `key taken from ${d.keySource}` : 'no key in the capture (no 0xEC65 value with that first byte)'}`),
      });
    }
    if (victronSessions.length) {
      findings.push({
        code: 'victron-gatt',
        level: 'ok',
        title: `Victron GATT data in ${victronSessions.length} session(s).`,
        details: victronSessions.map((s) => {
          const v = s.victron!;
          const hd = v.handles ? `, handles Control ${h4(v.handles.control)} LastData ${h4(v.handles.lastData)} Data ${h4(v.handles.data)}` : '';
          return `session ${s.session}: ${s.device ?? 'address unknown'}, ${where(s)}: profile ${v.profile ?? '-'}${v.reason ? ` (chosen by ${v.reason})` : ''}${hd}; ${v.messages} message(s), ${v.control} control, ${v.unknown} unknown run(s) (${v.unknownBytes} byte(s)), ${v.unanswered} unanswered request(s)`;
        }),
      });
    } else if (total > 0) {
      const withAtt = sessions.filter((s) => s.attPdus > 0);
      if (withAtt.length) {
        findings.push({
          code: 'other-gatt',
          level: 'warning',
          title: `ATT traffic in ${withAtt.length} session(s), none of it Victron's: no Victron characteristic (306b0002/3/4) found by discovery, no Victron message on the default handles.`,
          details: withAtt.slice(0, 20).map((s) => {
            const db = run.gatt.find((g) => g.device !== undefined && g.device === s.device) ?? run.gatt.find((g) => g.connection === s.connection);
            const services = db ? db.services.map((x) => x.uuid) : [];
            return `session ${s.session}: ${s.device ?? 'address unknown'}, ${s.attPdus} ATT PDU(s), ${where(s)}${services.length ? `; services ${services.join(', ')}` : '; no discovery in the capture'}`;
          }),
        });
      }
      findings.push({
        code: 'no-victron',
        level: 'warning',
        title: 'No Victron GATT data in this capture.',
        details: [
          h.acl === 0 ? 'Record while the VictronConnect app is connected to the device (open the device in the app).' : 'Check that the app talked to the Victron device while the log was recording, and that the log is the full one.',
        ],
      });
    }
    // The answer first (after what the capture itself says), then the rest.
    const rank = ['damaged', 'filtered-log', 'summary', 'victron-gatt', 'no-victron', 'no-acl', 'other-gatt', 'adverts-only', 'adverts-no-key', 'adverts-key', 'connections-without-att', 'encrypted'];
    findings.sort((a, b) => rank.indexOf(a.code) - rank.indexOf(b.code));
    const victron = victronSessions.length > 0;
    return { inputs: run.inputs, hci: h, sessions, victronAdverts, findings, victron, exitCode: victron ? 0 : 3 };
  }
}

/** The report of a run that could not read its input at all. */
export function unreadable(path: string, message: string): DoctorReport {
  return {
    inputs: [{ path, records: 0, complete: false }],
    hci: { commands: 0, events: 0, acl: 0, sco: 0, iso: 0, other: 0, advertisingReports: 0, connectionEvents: 0 },
    sessions: [],
    victronAdverts: [],
    findings: [{ code: 'not-a-capture', level: 'error', title: 'Not a capture that can be read.', details: [message] }],
    victron: false,
    exitCode: 1,
  };
}

const MARK: Record<FindingLevel, string> = { ok: 'ok', info: 'info', warning: 'warning', error: 'error' };

export function doctorToText(r: DoctorReport): string {
  const out: string[] = [];
  for (const i of r.inputs) out.push(`${i.path}: ${i.format ? `${i.format} (${i.linkType}), ${i.records} record(s), ${i.complete ? 'read whole' : 'damaged'}` : 'not read'}`);
  const h = r.hci;
  if (r.inputs.some((i) => i.format)) out.push(`HCI: ${h.commands} command(s), ${h.events} event(s) (${h.advertisingReports} advertising report(s), ${h.connectionEvents} connection event(s)), ${h.acl} ACL packet(s); ${r.sessions.length} connection session(s)`);
  out.push('');
  for (const f of r.findings) {
    out.push(`[${MARK[f.level]}] ${f.title}`);
    for (const d of f.details) out.push(`    ${d}`);
  }
  return out.join('\n') + '\n';
}
