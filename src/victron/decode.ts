/**
 * The Victron layer over ATT: finds the vendor characteristics of each connection (by UUID from
 * discovery, else by the profiles' default handle layouts), reassembles transfers per connection
 * and direction, frames messages, decodes them with the device's profile, and pairs replies with
 * requests.
 */
import type { AttPdu, BluetoothEvent, LinkDirection } from '../bluetooth/types.js';
import { chooseProfile, decodeRegisterValue, planRaw, planValue, scalarPlan, type CharacteristicRole, type RegisterDef, type ResolvedProfile } from '../profiles/index.js';
import { decodeControl, type ControlInfo } from './control.js';
import { parseMessage, type VictronMessageBody } from './message.js';
import { TransferReassembler, type Piece, type PieceRange, type Provenance, type StreamSink } from './stream.js';

export interface VictronRecord {
  kind: 'message' | 'control' | 'unknown' | 'padding';
  /** The frame that carried the record's last byte. */
  frame: number;
  /** Every frame that carried some of its bytes. Read-only: records of one piece (or one message) share the array. */
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
  /** The register's definition in the profile (0x08 value, 0x06 set): what a formatter needs for the text people read (see victronText). */
  def?: RegisterDef;
  /** Control records (and unknown Control bytes): the decoded Control value. */
  control?: ControlInfo;
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
  /** Where the bytes lie in the pieces. Read-only: the records of one message share the array. */
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
  /** The keys of the connection's two transfer streams (host-to-device, device-to-host). */
  toDevice: string;
  toHost: string;
  connection: number;
  session?: number;
  device?: string;
  /** Roles learned from UUIDs or from the layout. */
  roles: Map<number, CharacteristicRole>;
  layout?: { control: number; lastData: number; data: number };
  profile?: ResolvedProfile;
  /** Why `profile` was chosen (product id, GAP name, handle layout, forced), for the report and doctor. */
  profileReason?: string;
  name?: string;
  /** How the name was learned: "frame 12, handle 0x0003 (GAP Device Name)". */
  nameFrom?: string;
  productId?: number;
  productFrom?: string;
  /** Requests waiting for their reply, by regKey/typeKey (a key whose requests were all answered keeps an empty list). */
  pending: Map<number, PendingReq[]>;
  /** Read Response values by handle, kept until the GAP name is known (reads often precede discovery). */
  reads?: Map<number, Uint8Array>;
}

/** The profile a session got and why. */
export interface SessionProfile {
  session?: number;
  connection: number;
  device?: string;
  profile?: string;
  reason?: string;
  name?: string;
  productId?: number;
  /** Control, LastData and Data handles in use. */
  handles?: { control: number; lastData: number; data: number };
}

/** What a device told about itself in one session, carried to its next sessions (reconnections read nothing again). */
interface DeviceIdentity {
  name?: string;
  nameFrom?: string;
  productId?: number;
  productFrom?: string;
}

/** The pending-request key of a register (0x05/0x06 asked, 0x08/0x09 answer): numbers, not strings made per record. */
function regKey(instance: number | undefined, register: number | undefined): number {
  return register === undefined ? -1 : (instance ?? 0x10000) * 0x10000 + register;
}

/** The pending-request key of an opcode answered by type (0x07 response, 0x0d path list); below every regKey. */
function typeKey(instance: number | undefined, type: number | undefined): number {
  return type === undefined || type > 0xffff ? -2 : -3 - ((instance ?? 0x10000) * 0x10000 + type);
}

/** A connection's key: its session, else (PDUs fed without sessions) its handle and peer. A number, not a string made per PDU. */
function connKey(x: { connection: number; device?: string; session?: number }): number | string {
  return x.session ?? `${x.connection}/${x.device ?? '?'}`;
}

/** A read value that is a device name: printable UTF-8 text, no control bytes. */
function asName(v: Uint8Array): string | undefined {
  if (v.length < 2 || v.length > 64) return undefined;
  const t = Buffer.from(v).toString('utf8').replace(/\0+$/, '');
  return /^[\p{L}\p{N}\p{P}\p{S} ]+$/u.test(t) && !t.includes('\uFFFD') ? t : undefined;
}

export interface VictronDecoderOptions {
  profiles: ResolvedProfile[];
  /** Force this profile for every connection (`--profile`). */
  profile?: ResolvedProfile;
  /** UUID of a handle on a connection as discovery later revealed it (the ATT layer's GATT map). */
  uuidOf?: (connection: number, device: string | undefined, handle: number) => string | undefined;
}


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
  /** Reused for every piece (the reassembler keeps none). */
  private piece: Piece = { bytes: new Uint8Array(0), frame: 0, timeUs: 0, role: 'data' };
  /** The connection, direction, handle and output of the stream being fed or flushed: where `sink` puts its records. */
  private to = { c: undefined as ConnState | undefined, direction: 'host-to-device' as LinkDirection, handle: 0, out: [] as VictronRecord[] };
  /** Makes records straight from the streams' output (no intermediate object per message). */
  private readonly sink: StreamSink = {
    message: (body, at) => this.messageRecords(this.to.c!, this.to.direction, this.to.handle, body, at, this.to.out),
    padding: (at) => this.to.out.push({ kind: 'padding', frame: at.frame, frames: at.frames, timeUs: at.timeUs, bytes: at.bytes, ranges: at.ranges, ...this.base(this.to.c!, this.to.direction, this.to.handle) }),
    unknown: (reason, at) => this.to.out.push({ kind: 'unknown', frame: at.frame, frames: at.frames, timeUs: at.timeUs, bytes: at.bytes, ranges: at.ranges, ...this.base(this.to.c!, this.to.direction, this.to.handle), reason }),
  };
  private conns = new Map<number | string, ConnState>();
  private uuidRoles = new Map<string, CharacteristicRole>();
  private layouts: { control: number; lastData: number; data: number }[];
  private fallback: ResolvedProfile | undefined;
  private unansweredList: UnansweredRequest[] = [];
  private identities = new Map<string, DeviceIdentity>();
  /** Every session's connection state stays reachable for profileOf() (small: no pending data after close). */
  private closed: ConnState[] = [];
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
    const key = connKey(pdu);
    let c = this.conns.get(key);
    if (!c) {
      const name = typeof key === 'number' ? `s${key}` : key;
      c = { toDevice: `${name}/host-to-device`, toHost: `${name}/device-to-host`, connection: pdu.connection, device: pdu.device, roles: new Map(), pending: new Map() };
      if (pdu.session !== undefined) c.session = pdu.session;
      const known = pdu.device !== undefined ? this.identities.get(pdu.device) : undefined;
      if (known) Object.assign(c, known);
      if (this.opts.profile) {
        c.profile = this.opts.profile;
        c.profileReason = 'forced (--profile)';
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

  private setName(c: ConnState, v: Uint8Array | string, from: string): void {
    c.name = typeof v === 'string' ? v : Buffer.from(v).toString('utf8').replace(/\0+$/, '');
    c.nameFrom = from;
    c.reads = undefined;
    this.remember(c);
    this.chooseFor(c);
  }

  private remember(c: ConnState): void {
    if (c.device === undefined) return;
    const id: DeviceIdentity = {};
    if (c.name !== undefined) Object.assign(id, { name: c.name, nameFrom: c.nameFrom });
    if (c.productId !== undefined) Object.assign(id, { productId: c.productId, productFrom: c.productFrom });
    this.identities.set(c.device, id);
  }

  /** Product id (register 0x0100) wins over the GAP name, which wins over the handle layout (shared by SmartShunt and SmartSolar). */
  private chooseFor(c: ConnState): void {
    if (this.opts.profile) return;
    const ps = this.opts.profiles;
    const h = (n: number) => '0x' + n.toString(16).padStart(4, '0');
    let p = c.productId !== undefined ? chooseProfile(ps, { productId: c.productId }) : undefined;
    if (p) c.profileReason = `product id 0x${c.productId!.toString(16).toUpperCase().padStart(4, '0')} (register 0x0100, ${c.productFrom})`;
    else if (c.name !== undefined && (p = chooseProfile(ps, { name: c.name }))) c.profileReason = `GAP device name ${JSON.stringify(c.name)} (${c.nameFrom})`;
    else if (c.layout && (p = chooseProfile(ps, { handles: c.layout }))) {
      const same = ps.filter((x) => x.profile.match && x.defaultHandles.some((l) => l.control === c.layout!.control && l.lastData === c.layout!.lastData && l.data === c.layout!.data));
      c.profileReason = `handle layout Control ${h(c.layout.control)}, LastData ${h(c.layout.lastData)}, Data ${h(c.layout.data)}${same.length > 1 ? ` (shared by ${same.map((x) => x.id).join(', ')}: first one taken, no product id or name seen)` : ''}`;
    }
    if (p) c.profile = p;
  }

  /** The profile of each session and why it was chosen (sessions with Victron traffic). */
  sessionProfiles(): SessionProfile[] {
    const out: SessionProfile[] = [];
    for (const c of [...this.closed, ...this.conns.values()]) {
      if (!c.layout && !c.profile) continue;
      const p = c.profile ?? this.fallback;
      out.push({
        ...(c.session !== undefined ? { session: c.session } : {}),
        connection: c.connection,
        ...(c.device !== undefined ? { device: c.device } : {}),
        ...(p ? { profile: p.id } : {}),
        reason: c.profileReason ?? (p ? 'no product id, name or known handle layout: the generic profile' : undefined),
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.productId !== undefined ? { productId: c.productId } : {}),
        ...(c.layout ? { handles: c.layout } : {}),
      });
    }
    return out.sort((a, b) => (a.session ?? 0) - (b.session ?? 0));
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

  /** Feeds one ATT PDU; returns the Victron records it completed (appended to `out` when given). */
  pushAtt(pdu: AttPdu, out: VictronRecord[] = []): VictronRecord[] {
    const c = this.conn(pdu);
    // What the GATT layer tells about the device: its GAP name (Device Name, 2a00), even when it
    // was read before the discovery that says which handle holds it.
    if (!c.nameFrom?.includes('2a00') && pdu.opcode === 0x0b && pdu.value) {
      const h = pdu.handle;
      const where = `frame ${pdu.frame}, handle 0x${(h ?? 0).toString(16).padStart(4, '0')}`;
      if (pdu.uuid === '2a00') this.setName(c, pdu.value, `read in ${where}, Device Name 2a00`);
      else if (h !== undefined && pdu.uuid === undefined && !c.name) {
        // Android reads the Device Name (handle 0x0003 on these devices) before any discovery, and
        // reconnections often have no discovery at all: a read whose text a profile's name pattern
        // matches is taken as the name now; discovery can still confirm it.
        const text = asName(pdu.value);
        if (text !== undefined && chooseProfile(this.opts.profiles, { name: text })) this.setName(c, text, `read in ${where} before discovery`);
        else {
          c.reads ??= new Map();
          if (c.reads.size < 32) c.reads.set(h, pdu.value.slice(0, 64));
        }
      }
    } else if (c.reads && !c.name && (pdu.opcode === 0x09 || pdu.opcode === 0x05 || pdu.opcode === 0x11) && this.opts.uuidOf) {
      for (const [h, val] of c.reads) if (this.opts.uuidOf(c.connection, c.device, h) === '2a00') this.setName(c, val, `read on handle 0x${h.toString(16).padStart(4, '0')}, Device Name 2a00 by discovery`);
    }
    const role = this.role(c, pdu);
    if (!role || pdu.handle === undefined) return out;
    const v = pdu.value;
    if (role === 'control') {
      const isRead = pdu.opcode === 0x0b;
      if (!v || !(pdu.opcode === 0x52 || pdu.opcode === 0x12 || pdu.opcode === 0x1b || pdu.opcode === 0x1d || isRead)) return out;
      const ci = decodeControl(v, pdu.direction, isRead);
      out.push({
        kind: ci.known ? 'control' : 'unknown',
        frame: pdu.frame,
        frames: pdu.frames,
        timeUs: pdu.timeUs,
        ...this.base(c, pdu.direction, pdu.handle),
        typeName: ci.name,
        value: ci.params,
        control: ci,
        bytes: v,
        ranges: [{ frame: pdu.frame, start: 0, end: v.length }],
        ...(ci.known ? {} : { reason: 'unknown Control bytes' }),
      });
      return out;
    }
    const carries = pdu.direction === 'host-to-device' ? pdu.opcode === 0x52 || pdu.opcode === 0x12 : pdu.opcode === 0x1b || pdu.opcode === 0x1d;
    if (!carries || !v) return out;
    const stream = pdu.direction === 'host-to-device' ? c.toDevice : c.toHost;
    if (pdu.truncated) {
      // The capture kept only the start of this value (snap length, Android filtered log): it cannot
      // be framed, and whatever was pending in the transfer is cut too.
      this.streams.flushTo(stream, 'transfer interrupted by a value the capture cut short', this.sinkTo(c, pdu.direction, pdu.handle, out));
      out.push({ kind: 'unknown', frame: pdu.frame, frames: [pdu.frame], timeUs: pdu.timeUs, connection: c.connection, session: c.session, device: c.device, direction: pdu.direction, handle: pdu.handle, profile: (c.profile ?? this.fallback)?.id, bytes: v, ranges: [{ frame: pdu.frame, start: 0, end: v.length }], reason: 'ATT value cut short by the capture (snap length or Android filtered log)' });
      return out;
    }
    const piece = this.piece;
    piece.bytes = v;
    piece.frame = pdu.frame;
    piece.timeUs = pdu.timeUs;
    piece.role = role === 'lastData' ? 'lastData' : 'data';
    this.streams.pushTo(stream, piece, this.sinkTo(c, pdu.direction, pdu.handle, out));
    return out;
  }

  /** The sink, set to put records of connection `c`, `direction` and `handle` in `out`. */
  private sinkTo(c: ConnState, direction: LinkDirection, handle: number, out: VictronRecord[]): StreamSink {
    const to = this.to;
    to.c = c;
    to.direction = direction;
    to.handle = handle;
    to.out = out;
    return this.sink;
  }

  /** The records of one message (`r` is the reassembler's reused provenance: read here, never kept). */
  private messageRecords(c: ConnState, direction: LinkDirection, handle: number, m: VictronMessageBody, r: Provenance, out: VictronRecord[]): void {
    const profile = c.profile ?? this.fallback;
    if (m.type === 0x08) {
      out.push(this.valueRecord(c, direction, handle, r, m, profile));
      return;
    }
    const problem = m.problems.length ? m.problems.join('; ') : undefined;
    if (m.type === 0x05 && m.registers && m.registers.length > 0) {
      for (const reg of m.registers) {
        // A fresh literal per register (object spread is slow on this hot path).
        const rec: VictronRecord = { kind: 'message', frame: r.frame, frames: r.frames, timeUs: r.timeUs, bytes: r.bytes, ranges: r.ranges, connection: c.connection, session: c.session, device: c.device, direction, handle, profile: profile?.id, type: m.type, typeName: m.typeName, instance: m.instance, register: reg, registerName: this.regName(profile, reg) };
        if (problem) rec.problem = problem;
        out.push(rec);
        this.addPending(c, regKey(m.instance, reg), r, m, reg);
      }
      return;
    }
    // Built field by field (no spreads): this is the hot path of `vgatt decode`.
    const common: VictronRecord = { kind: 'message', frame: r.frame, frames: r.frames, timeUs: r.timeUs, bytes: r.bytes, ranges: r.ranges, connection: c.connection, session: c.session, device: c.device, direction, handle, profile: profile?.id, type: m.type, typeName: m.typeName, instance: m.instance };
    if (problem) common.problem = problem;
    switch (m.type) {
      case 0x06:
        if (m.entries && m.entries.length > 0) {
          for (const e of m.entries) {
            const rec: VictronRecord = { ...common };
            this.registerValue(rec, profile, e.register, e.raw);
            out.push(rec);
            this.addPending(c, regKey(m.instance, e.register), r, m, e.register);
          }
        } else out.push(common);
        return;
      case 0x09: {
        const rec: VictronRecord = { ...common, register: m.register, registerName: m.register !== undefined ? this.regName(profile, m.register) : undefined, response: m.response };
        this.answer(c, regKey(m.instance, m.register), rec, 0x05, 0x06);
        out.push(rec);
        return;
      }
      case 0x07: {
        const rec: VictronRecord = { ...common, response: m.response, answered: m.answeredType };
        this.answer(c, typeKey(m.instance, m.answeredType), rec, m.answeredType ?? -1);
        out.push(rec);
        return;
      }
      case 0x03:
      case 0x04:
      case 0x0a:
      case 0x0b:
      case 0x0c:
        out.push({ ...common, ...(m.pathIndexes ? { value: m.pathIndexes } : m.pathEntries ? { value: m.pathEntries } : {}) });
        this.addPending(c, typeKey(m.instance, m.type), r, m);
        return;
      case 0x02:
        out.push({ ...common, value: m.devices ?? null });
        return;
      case 0x0d:
        out.push({ ...common, value: m.pathList ?? null });
        this.answer(c, typeKey(m.instance, 0x0a), out[out.length - 1]!, 0x0a);
        return;
      case 0x0e:
        out.push({ ...common, value: { index: m.pathIndex, path: m.text } });
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

  /** A product id answer: taken when a profile knows it (other instances answer 0x0100 with other ids). */
  private productId(c: ConnState, raw: Uint8Array, frame: number, instance: number | undefined): void {
    const id = raw[1]! | (raw[2]! << 8);
    if (!chooseProfile(this.opts.profiles, { productId: id })) return;
    c.productId = id;
    c.productFrom = `frame ${frame}${instance !== undefined ? `, instance ${instance}` : ''}`;
    this.remember(c);
    this.chooseFor(c);
  }

  /**
   * A 0x08 value, the bulk of a capture: one literal with every field a value record can get
   * (undefined when absent), so that the record is allocated once in its final shape instead of
   * growing field by field; the value is decoded by registerValue().
   */
  private valueRecord(c: ConnState, direction: LinkDirection, handle: number, r: Provenance, m: VictronMessageBody, profile: ResolvedProfile | undefined): VictronRecord {
    const rec: VictronRecord = {
      kind: 'message', frame: r.frame, frames: r.frames, timeUs: r.timeUs, bytes: r.bytes, ranges: r.ranges, connection: c.connection, session: c.session, device: c.device, direction, handle, profile: profile?.id,
      type: 0x08, typeName: m.typeName, instance: m.instance, register: m.register, registerName: undefined, raw: undefined, value: undefined, unit: undefined, def: undefined,
      problem: m.problems.length ? m.problems.join('; ') : undefined, request: undefined, latencyMs: undefined,
    };
    const register = m.register;
    if (register === undefined) return rec;
    if (m.raw) this.registerValue(rec, profile, register, m.raw);
    else rec.registerName = this.regName(profile, register);
    if (register === 0x0100 && m.raw && m.raw.length >= 3 && c.productId === undefined) this.productId(c, m.raw, r.frame, m.instance);
    if (c.pending.size > 0) this.answer(c, regKey(m.instance, register), rec, 0x05);
    return rec;
  }

  private regName(profile: ResolvedProfile | undefined, id: number): string | undefined {
    return profile?.register(id)?.name;
  }

  /** A register's value (0x08 value, an entry of 0x06 set), decoded by the profile, into `rec`: the one place that does it. */
  private registerValue(rec: VictronRecord, profile: ResolvedProfile | undefined, register: number, raw: Uint8Array): void {
    const def = profile?.register(register);
    rec.register = register;
    rec.raw = raw;
    if (def) {
      rec.registerName = def.name;
      rec.def = def;
    }
    const plan = def !== undefined ? scalarPlan(def) : undefined;
    if (plan !== undefined && raw.length === plan.size) {
      // The common case, one number: without the general decoder's result object.
      rec.value = planValue(plan, planRaw(plan, raw));
      if (plan.field.unit) rec.unit = plan.field.unit;
      return;
    }
    const d = decodeRegisterValue(def, raw);
    rec.value = d.value;
    if (d.unit) rec.unit = d.unit;
    if (d.problem) rec.problem = d.problem;
  }

  private addPending(c: ConnState, key: number, r: { frame: number; timeUs: number }, m: VictronMessageBody, register?: number): void {
    let list = c.pending.get(key);
    if (list === undefined) {
      list = [];
      c.pending.set(key, list);
    }
    // Bounded: a request repeated many times without an answer keeps only its latest copies. The
    // object of the one dropped takes the new request (unanswer() copied what it keeps): a get values
    // written again and again allocates nothing here.
    const dropped = list.length >= 8 ? list.shift()! : undefined;
    if (dropped !== undefined) this.unanswer(c, dropped);
    const req: PendingReq = dropped ?? { frame: 0, file: undefined, timeUs: 0, type: 0, typeName: '', instance: 0, register: undefined };
    req.frame = r.frame;
    req.file = this.file;
    req.timeUs = r.timeUs;
    req.type = m.type;
    req.typeName = m.typeName;
    req.instance = m.instance ?? -1;
    req.register = register;
    list.push(req);
  }

  /** Pairs a reply with the oldest pending request of type `t1` (or `t2`) under `key`. */
  private answer(c: ConnState, key: number, rec: VictronRecord, t1: number, t2 = t1): void {
    const list = c.pending.get(key);
    if (!list) return;
    let i = 0;
    while (i < list.length && list[i]!.type !== t1 && list[i]!.type !== t2) i++;
    if (i === list.length) return;
    const req = list[i]!;
    if (i === 0) list.shift();
    else list.splice(i, 1);
    // An emptied list stays for the register's next request (no Map delete and set per answer).
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
      this.streams.flushTo(dir === 'host-to-device' ? c.toDevice : c.toHost, reason, this.sinkTo(c, dir, 0, out));
    }
    for (const list of c.pending.values()) for (const p of list) this.unanswer(c, p);
    c.pending.clear();
    return out;
  }

  /** Connection events: a disconnect ends the connection's transfers. */
  pushEvent(e: BluetoothEvent): VictronRecord[] {
    if (e.kind !== 'disconnect') return [];
    const key = connKey(e);
    const c = this.conns.get(key);
    if (!c) return [];
    this.conns.delete(key);
    if ((c.layout || c.profile) && this.closed.length < 100_000) this.closed.push(c);
    const why = e.end === 'reset' ? 'an HCI Reset' : e.end === 'reconnect' ? 'a new connection on the same handle' : e.end === 'file-gap' ? 'the end of the file (the next one starts much later)' : 'the disconnection';
    return this.closeConn(c, `transfer cut short by ${why}`);
  }

  /** End of capture: pending transfers become unknown records; unanswered requests are listed. */
  finish(): VictronRecord[] {
    const out: VictronRecord[] = [];
    for (const c of this.conns.values()) out.push(...this.closeConn(c, 'transfer cut short by the end of the capture'));
    for (const c of this.conns.values()) if (c.layout || c.profile) this.closed.push(c);
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
