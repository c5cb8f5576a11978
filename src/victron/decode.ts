/**
 * The Victron layer over ATT: finds the vendor characteristics of each connection (by UUID from
 * discovery, else by the profiles' default handle layouts), reassembles transfers per connection
 * and direction, frames messages, decodes them with the device's profile, and pairs replies with
 * requests.
 */
import type { AttPdu, BluetoothEvent, LinkDirection } from '../bluetooth/types.js';
import { chooseProfile, decodeRegisterValue, type CharacteristicRole, type ResolvedProfile } from '../profiles/index.js';
import { decodeControl } from './control.js';
import { parseMessage, type VictronMessage } from './message.js';
import { TransferReassembler, type PieceRange, type StreamRecord } from './stream.js';

export interface VictronRecord {
  kind: 'message' | 'control' | 'unknown' | 'padding';
  /** The frame that carried the record's last byte. */
  frame: number;
  frames: number[];
  timeUs: number;
  connection: number;
  /** The connection session (see AttPdu.session): pairing and transfers never cross sessions. */
  session?: number;
  /** The capture the record came from, when a run reads several. */
  file?: string;
  device?: string;
  direction: LinkDirection;
  /** Opcode of the message (kind message). */
  type?: number;
  typeName?: string;
  instance?: number;
  register?: number;
  registerName?: string;
  /** The register value's bytes (0x08 value, 0x06 set). */
  raw?: Uint8Array;
  /** Decoded value: number (scaled), string, object (records), array (device list); null when not decodable. */
  value?: unknown;
  unit?: string;
  /** Human-readable value or meaning. */
  text?: string;
  profile?: string;
  /** Frame of the request this record answers. */
  request?: number;
  latencyMs?: number;
  /** Response code of 0x07 / 0x09 / 0x10. */
  response?: number;
  /** 0x07: the opcode answered. */
  answered?: number;
  /** Why bytes are unknown, or what is wrong with a message. */
  reason?: string;
  problem?: string;
  /** All bytes of the message / control PDU / unknown run. */
  bytes: Uint8Array;
  ranges: PieceRange[];
  /** ATT handle of the last piece. */
  handle: number;
}

export interface UnansweredRequest {
  frame: number;
  /** The capture of the request, when a run reads several. */
  file?: string;
  connection: number;
  session?: number;
  device?: string;
  type: number;
  typeName: string;
  instance: number;
  register?: number;
}

interface PendingReq {
  frame: number;
  file?: string;
  timeUs: number;
  type: number;
  typeName: string;
  instance: number;
  register?: number;
}

interface ConnState {
  key: string;
  connection: number;
  session?: number;
  device?: string;
  /** Roles learned from UUIDs or from the layout. */
  roles: Map<number, CharacteristicRole>;
  layout?: { control: number; lastData: number; data: number };
  profile?: ResolvedProfile;
  name?: string;
  productId?: number;
  pending: Map<string, PendingReq[]>;
  /** Read Response values by handle, kept until the GAP name is known (reads often precede discovery). */
  reads?: Map<number, Uint8Array>;
}

export interface VictronDecoderOptions {
  profiles: ResolvedProfile[];
  /** Force this profile for every connection (`--profile`). */
  profile?: ResolvedProfile;
  /** UUID of a handle on a connection as discovery later revealed it (the ATT layer's GATT map). */
  uuidOf?: (connection: number, device: string | undefined, handle: number) => string | undefined;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** True when a whole ATT value reads as clean Victron messages (the last one may continue in the next piece). */
function isVictronPiece(v: Uint8Array): boolean {
  let pos = 0;
  while (pos < v.length) {
    const m = parseMessage(v, pos);
    if (!m.ok) return m.needMore && pos > 0 ? true : m.needMore && v.length >= 3;
    if (m.message.problems.length > 0) return false;
    pos = m.end;
  }
  return true;
}

export class VictronDecoder {
  private streams = new TransferReassembler();
  private conns = new Map<string, ConnState>();
  private uuidRoles = new Map<string, CharacteristicRole>();
  private layouts: { control: number; lastData: number; data: number }[];
  private fallback: ResolvedProfile | undefined;
  private unansweredList: UnansweredRequest[] = [];
  /** The capture being read, when a run reads several (set by the pipeline). */
  file: string | undefined;

  constructor(private readonly opts: VictronDecoderOptions) {
    for (const p of opts.profiles) for (const role of ['control', 'lastData', 'data'] as const) for (const u of p.characteristics[role]) this.uuidRoles.set(u, role);
    const seen = new Set<string>();
    this.layouts = [];
    for (const p of opts.profile ? [opts.profile] : opts.profiles) {
      for (const h of p.defaultHandles) {
        const k = `${h.control}/${h.lastData}/${h.data}`;
        if (!seen.has(k)) {
          seen.add(k);
          this.layouts.push(h);
        }
      }
    }
    this.fallback = opts.profile ?? opts.profiles.find((p) => p.id === 'common') ?? opts.profiles[0];
  }

  private conn(pdu: { connection: number; device?: string; session?: number }): ConnState {
    const key = pdu.session !== undefined ? `s${pdu.session}` : `${pdu.connection}/${pdu.device ?? '?'}`;
    let c = this.conns.get(key);
    if (!c) {
      c = { key, connection: pdu.connection, device: pdu.device, roles: new Map(), pending: new Map() };
      if (pdu.session !== undefined) c.session = pdu.session;
      if (this.opts.profile) {
        c.profile = this.opts.profile;
        if (this.opts.profile.defaultHandles[0]) this.setLayout(c, this.opts.profile.defaultHandles[0]);
      }
      this.conns.set(key, c);
    }
    return c;
  }

  private setLayout(c: ConnState, l: { control: number; lastData: number; data: number }): void {
    c.layout = l;
    for (const [h, r] of [[l.control, 'control'], [l.lastData, 'lastData'], [l.data, 'data']] as const) if (!c.roles.has(h)) c.roles.set(h, r);
  }

  private setName(c: ConnState, v: Uint8Array): void {
    c.name = Buffer.from(v).toString('utf8').replace(/\0+$/, '');
    c.reads = undefined;
    this.chooseFor(c);
  }

  private chooseFor(c: ConnState): void {
    if (this.opts.profile) return;
    const p = chooseProfile(this.opts.profiles, { name: c.name, productId: c.productId, handles: c.layout });
    if (p) c.profile = p;
  }

  /** The Victron role of an ATT handle on this connection, or undefined for other attributes. */
  private role(c: ConnState, pdu: AttPdu): CharacteristicRole | undefined {
    if (pdu.handle === undefined) return undefined;
    if (pdu.uuid !== undefined) {
      const r = this.uuidRoles.get(pdu.uuid);
      if (r && !c.roles.has(pdu.handle)) {
        c.roles.set(pdu.handle, r);
        if (!c.layout) {
          const by = (role: CharacteristicRole) => [...c.roles].find(([, x]) => x === role)?.[0];
          const [control, lastData, data] = [by('control'), by('lastData'), by('data')];
          if (control !== undefined && lastData !== undefined && data !== undefined) {
            c.layout = { control, lastData, data };
            this.chooseFor(c);
          }
        }
      }
      if (r) return r;
      return undefined; // discovery says this handle is something else
    }
    const known = c.roles.get(pdu.handle);
    if (known) return known;
    if (c.layout) return undefined;
    // No discovery (yet): recognise the layout from Victron traffic only, never from other writes
    // (e.g. CCCD writes of 0100 on handles that some layout uses): a Control byte on a candidate
    // Control handle, or a clean Victron message on a handle every candidate layout agrees on.
    const h = pdu.handle;
    const v = pdu.value;
    if (!v || v.length === 0 || !(pdu.opcode === 0x52 || pdu.opcode === 0x12 || pdu.opcode === 0x1b || pdu.opcode === 0x1d)) return undefined;
    let fits = this.layouts.filter((l) => l.control === h || l.lastData === h || l.data === h);
    const controlByte = v[0] === 0xfa || v[0] === 0xf9 || v[0] === 0xf8 || v[0] === 0xf7;
    if (controlByte && decodeControl(v).known) fits = fits.filter((l) => l.control === h);
    else {
      if (!isVictronPiece(v)) return undefined;
      fits = fits.filter((l) => l.control !== h);
    }
    const roleIn = (l: { control: number; lastData: number; data: number }): CharacteristicRole => (l.control === h ? 'control' : l.lastData === h ? 'lastData' : 'data');
    if (fits.length === 0 || !fits.every((l) => roleIn(l) === roleIn(fits[0]!))) return undefined;
    this.setLayout(c, fits[0]!);
    this.chooseFor(c);
    return roleIn(fits[0]!);
  }

  private base(c: ConnState, direction: LinkDirection, handle: number) {
    return { connection: c.connection, session: c.session, device: c.device, direction, handle, profile: (c.profile ?? this.fallback)?.id };
  }

  /** Feeds one ATT PDU; returns the Victron records it completed. */
  pushAtt(pdu: AttPdu): VictronRecord[] {
    const c = this.conn(pdu);
    // What the GATT layer tells about the device: its GAP name (Device Name, 2a00), even when it
    // was read before the discovery that says which handle holds it.
    if (!c.name) {
      if (pdu.opcode === 0x0b && pdu.uuid === '2a00' && pdu.value) this.setName(c, pdu.value);
      else if (pdu.opcode === 0x0b && pdu.handle !== undefined && pdu.value && pdu.uuid === undefined) {
        c.reads ??= new Map();
        if (c.reads.size < 32) c.reads.set(pdu.handle, pdu.value.slice(0, 64));
      } else if (c.reads && (pdu.opcode === 0x09 || pdu.opcode === 0x05 || pdu.opcode === 0x11) && this.opts.uuidOf) {
        for (const [h, val] of c.reads) if (this.opts.uuidOf(c.connection, c.device, h) === '2a00') this.setName(c, val);
      }
    }
    const role = this.role(c, pdu);
    if (!role || pdu.handle === undefined) return [];
    const v = pdu.value;
    if (role === 'control') {
      const isRead = pdu.opcode === 0x0b;
      if (!v || !(pdu.opcode === 0x52 || pdu.opcode === 0x12 || pdu.opcode === 0x1b || pdu.opcode === 0x1d || isRead)) return [];
      const ci = decodeControl(v, { read: isRead });
      return [{
        kind: ci.known ? 'control' : 'unknown',
        frame: pdu.frame,
        frames: pdu.frames.length > 1 ? [pdu.frame] : [pdu.frame],
        timeUs: pdu.timeUs,
        ...this.base(c, pdu.direction, pdu.handle),
        typeName: ci.name,
        text: ci.meaning,
        value: ci.params,
        bytes: v,
        ranges: [{ frame: pdu.frame, start: 0, end: v.length }],
        ...(ci.known ? {} : { reason: 'unknown Control bytes' }),
      }];
    }
    const carries = pdu.direction === 'host-to-device' ? pdu.opcode === 0x52 || pdu.opcode === 0x12 : pdu.opcode === 0x1b || pdu.opcode === 0x1d;
    if (!carries || !v) return [];
    const stream = `${c.key}/${pdu.direction}`;
    const out: VictronRecord[] = [];
    if (pdu.truncated) {
      // The capture kept only the start of this value (snap length, Android filtered log): it cannot
      // be framed, and whatever was pending in the transfer is cut too.
      for (const r of this.streams.flush(stream, 'transfer interrupted by a value the capture cut short')) this.toRecords(c, pdu.direction, pdu.handle, r, out);
      out.push({ kind: 'unknown', frame: pdu.frame, frames: [pdu.frame], timeUs: pdu.timeUs, connection: c.connection, session: c.session, device: c.device, direction: pdu.direction, handle: pdu.handle, profile: (c.profile ?? this.fallback)?.id, bytes: v, ranges: [{ frame: pdu.frame, start: 0, end: v.length }], reason: 'ATT value cut short by the capture (snap length or Android filtered log)' });
      return out;
    }
    for (const r of this.streams.push(stream, { bytes: v, frame: pdu.frame, timeUs: pdu.timeUs, role: role === 'lastData' ? 'lastData' : 'data' })) {
      this.toRecords(c, pdu.direction, pdu.handle, r, out);
    }
    return out;
  }

  private toRecords(c: ConnState, direction: LinkDirection, handle: number, r: StreamRecord, out: VictronRecord[]): void {
    const prov = { frame: r.frame, frames: r.frames, timeUs: r.timeUs, bytes: r.bytes, ranges: r.ranges };
    if (r.kind === 'padding') {
      out.push({ kind: 'padding', ...prov, ...this.base(c, direction, handle), text: `${r.bytes.length} padding byte(s) 0xff` });
      return;
    }
    if (r.kind === 'unknown') {
      out.push({ kind: 'unknown', ...prov, ...this.base(c, direction, handle), reason: r.reason });
      return;
    }
    const m = r.message;
    const profile = c.profile ?? this.fallback;
    // Built field by field (no spreads): this is the hot path of `vgatt decode`.
    const common: VictronRecord = { kind: 'message', frame: r.frame, frames: r.frames, timeUs: r.timeUs, bytes: r.bytes, ranges: r.ranges, connection: c.connection, session: c.session, device: c.device, direction, handle, profile: profile?.id, type: m.type, typeName: m.typeName, instance: m.instance };
    if (m.problems.length) common.problem = m.problems.join('; ');
    if (m.type === 0x08 && m.register !== undefined && m.raw && m.problems.length === 0) {
      const def = profile?.register(m.register);
      const d = decodeRegisterValue(def, m.raw);
      common.register = m.register;
      common.raw = m.raw;
      common.value = d.value;
      common.text = def ? d.text : `unknown register, ${m.raw.length} byte(s): ${hex(m.raw)}`;
      if (def) common.registerName = def.name;
      if (d.unit) common.unit = d.unit;
      if (d.problem) common.problem = d.problem;
      if (m.register === 0x0100 && m.raw.length >= 3 && !c.productId) {
        c.productId = m.raw[1]! | (m.raw[2]! << 8);
        this.chooseFor(c);
      }
      if (c.pending.size > 0) this.answer(c, `${m.instance}/r${m.register}`, common, [0x05]);
      out.push(common);
      return;
    }
    const regName = (id: number) => profile?.register(id)?.name;
    switch (m.type) {
      case 0x05:
        if (m.registers && m.registers.length > 0) {
          for (const reg of m.registers) {
            // A fresh literal per register (object spread is slow on this hot path).
            const rec: VictronRecord = { kind: 'message', frame: r.frame, frames: r.frames, timeUs: r.timeUs, bytes: r.bytes, ranges: r.ranges, connection: c.connection, session: c.session, device: c.device, direction, handle, profile: common.profile, type: m.type, typeName: m.typeName, instance: m.instance, register: reg, registerName: regName(reg) };
            if (common.problem) rec.problem = common.problem;
            out.push(rec);
            this.addPending(c, `${m.instance}/r${reg}`, r, m, reg);
          }
        } else out.push(common);
        return;
      case 0x06:
        if (m.entries && m.entries.length > 0) {
          for (const e of m.entries) {
            out.push({ ...common, ...this.value(profile, e.register, e.raw) });
            this.addPending(c, `${m.instance}/r${e.register}`, r, m, e.register);
          }
        } else out.push(common);
        return;
      case 0x08: {
        const rec: VictronRecord = { ...common };
        if (m.register !== undefined) Object.assign(rec, m.raw ? this.value(profile, m.register, m.raw) : { register: m.register, registerName: regName(m.register) });
        if (m.register === 0x0100 && m.raw && m.raw.length >= 3 && !c.productId) {
          c.productId = m.raw[1]! | (m.raw[2]! << 8);
          this.chooseFor(c);
        }
        this.answer(c, `${m.instance}/r${m.register}`, rec, [0x05]);
        out.push(rec);
        return;
      }
      case 0x09: {
        const rec: VictronRecord = { ...common, register: m.register, registerName: m.register !== undefined ? regName(m.register) : undefined, response: m.response, text: `response code ${m.response}${m.response === 0 ? ' (ok)' : ''}` };
        this.answer(c, `${m.instance}/r${m.register}`, rec, [0x05, 0x06]);
        out.push(rec);
        return;
      }
      case 0x07: {
        const rec: VictronRecord = { ...common, response: m.response, answered: m.answeredType, text: `${m.answeredType !== undefined ? `0x${m.answeredType.toString(16).padStart(2, '0')}` : '?'} answered ${m.response}${m.response === 0 ? ' (ok)' : ''}` };
        this.answer(c, `${m.instance}/t${m.answeredType}`, rec, [m.answeredType ?? -1]);
        out.push(rec);
        return;
      }
      case 0x03:
      case 0x04:
      case 0x0a:
      case 0x0b:
      case 0x0c:
        out.push({ ...common, ...(m.pathIndexes ? { value: m.pathIndexes } : m.pathEntries ? { value: m.pathEntries } : {}) });
        this.addPending(c, `${m.instance}/t${m.type}`, r, m);
        return;
      case 0x02:
        out.push({ ...common, value: m.devices ?? null, text: (m.devices ?? []).map((d) => `(${d.join(',')})`).join(' ') });
        return;
      case 0x0d:
        out.push({ ...common, value: m.pathList ?? null, text: m.pathList !== undefined ? `${m.pathList.length} characters` : undefined });
        this.answer(c, `${m.instance}/t${0x0a}`, out[out.length - 1]!, [0x0a]);
        return;
      case 0x0e:
        out.push({ ...common, value: { index: m.pathIndex, path: m.text }, text: `${m.pathIndex} = ${m.text}` });
        return;
      case 0x0f:
        out.push({ ...common, value: { index: m.pathIndex, value: m.pathValue }, ...(m.raw ? { raw: m.raw } : {}) });
        return;
      case 0x10:
        out.push({ ...common, value: { index: m.pathIndex }, response: m.response });
        return;
      default:
        out.push(common);
    }
  }

  private value(profile: ResolvedProfile | undefined, register: number, raw: Uint8Array): Partial<VictronRecord> {
    const def = profile?.register(register);
    const d = decodeRegisterValue(def, raw);
    const out: Partial<VictronRecord> = { register, raw, value: d.value, text: def ? d.text : `unknown register, ${raw.length} byte(s): ${hex(raw)}` };
    if (def) out.registerName = def.name;
    if (d.unit) out.unit = d.unit;
    if (d.problem) out.problem = d.problem;
    return out;
  }

  private addPending(c: ConnState, key: string, r: { frame: number; timeUs: number }, m: VictronMessage, register?: number): void {
    const list = c.pending.get(key) ?? [];
    // Bounded: a request repeated many times without an answer keeps only its latest copies.
    if (list.length >= 8) this.unanswer(c, list.shift()!);
    list.push({ frame: r.frame, ...(this.file !== undefined ? { file: this.file } : {}), timeUs: r.timeUs, type: m.type, typeName: m.typeName, instance: m.instance ?? -1, ...(register !== undefined ? { register } : {}) });
    c.pending.set(key, list);
  }

  /** Pairs a reply with the oldest pending request of one of `types` under `key`. */
  private answer(c: ConnState, key: string, rec: VictronRecord, types: number[]): void {
    const list = c.pending.get(key);
    if (!list) return;
    const i = list.findIndex((p) => types.includes(p.type));
    if (i < 0) return;
    const req = list.splice(i, 1)[0]!;
    if (list.length === 0) c.pending.delete(key);
    rec.request = req.frame;
    rec.latencyMs = Math.round((rec.timeUs - req.timeUs) / 100) / 10;
  }

  /** Unanswered requests are counted, and kept (for listing) up to a bound. */
  private unansweredCount = 0;
  private unanswer(c: ConnState, p: PendingReq): void {
    this.unansweredCount++;
    if (this.unansweredList.length < 10000) this.unansweredList.push({ frame: p.frame, ...(p.file !== undefined ? { file: p.file } : {}), connection: c.connection, ...(c.session !== undefined ? { session: c.session } : {}), device: c.device, type: p.type, typeName: p.typeName, instance: p.instance, ...(p.register !== undefined ? { register: p.register } : {}) });
  }

  /** How many requests were never answered (the list from unanswered() stops at 10,000). */
  unansweredTotal(): number {
    return this.unansweredCount;
  }

  private closeConn(c: ConnState, reason: string): VictronRecord[] {
    const out: VictronRecord[] = [];
    for (const dir of ['host-to-device', 'device-to-host'] as const) {
      for (const r of this.streams.flush(`${c.key}/${dir}`, reason)) this.toRecords(c, dir, 0, r, out);
    }
    for (const list of c.pending.values()) for (const p of list) this.unanswer(c, p);
    c.pending.clear();
    return out;
  }

  /** Connection events: a disconnect ends the connection's transfers. */
  pushEvent(e: BluetoothEvent): VictronRecord[] {
    if (e.kind !== 'disconnect') return [];
    const key = e.session !== undefined ? `s${e.session}` : `${e.connection}/${e.device ?? '?'}`;
    const c = this.conns.get(key);
    if (!c) return [];
    this.conns.delete(key);
    const why = e.end === 'reset' ? 'an HCI Reset' : e.end === 'reconnect' ? 'a new connection on the same handle' : e.end === 'file-gap' ? 'the end of the file (the next one starts much later)' : 'the disconnection';
    return this.closeConn(c, `transfer cut short by ${why}`);
  }

  /** End of capture: pending transfers become unknown records; unanswered requests are listed. */
  finish(): VictronRecord[] {
    const out: VictronRecord[] = [];
    for (const c of this.conns.values()) out.push(...this.closeConn(c, 'transfer cut short by the end of the capture'));
    this.conns.clear();
    return out;
  }

  /** The earliest frame whose bytes still wait for the rest of their message, if any. */
  oldestPendingFrame(): number | undefined {
    return this.streams.oldestPendingFrame();
  }

  unanswered(): UnansweredRequest[] {
    return this.unansweredList.slice().sort((a, b) => (a.session ?? 0) - (b.session ?? 0) || a.frame - b.frame);
  }
}
