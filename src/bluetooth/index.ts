/**
 * Bluetooth layers: HCI records -> connections (HCI events) -> L2CAP frames (ACL reassembly) ->
 * ATT PDUs with connection, peer address, direction and the UUID of their handle.
 */
import { HciPacketType, type HciRecord } from '../capture/types.js';
import { AclReassembler, type AclDiagnostic, type L2capFrame } from './acl.js';
import { attOpcodeName, decodeAttPdu, RESPONSE_OF } from './att.js';
import { GattLearner } from './gatt.js';
import { parseConnectionEvent } from './hci.js';
import type { AttPdu, BluetoothEvent, GattDatabase, LinkDirection, SessionEnd, SessionInfo } from './types.js';
import { uuidFromLe } from './uuid.js';
import { toHex } from '../util/cursor.js';

export * from './types.js';
export { decodeAttPdu, attOpcodeName, ATT_OPCODE_NAMES, ATT_ERROR_NAMES, propertyNames } from './att.js';
export { uuidFromLe, formatAddress, GATT_TYPE_NAMES } from './uuid.js';
export { GattLearner } from './gatt.js';
export { hciSites, type ByteSite, type SiteKind } from './sites.js';

const ATT_CID = 0x0004;
/** Opcodes a GATT client sends: used for the direction when the capture has none (H4 without phdr). */
const CLIENT_OPCODES = new Set([0x02, 0x04, 0x06, 0x08, 0x0a, 0x0c, 0x0e, 0x10, 0x12, 0x16, 0x18, 0x1e, 0x20, 0x52, 0xd2]);

interface PendingRequest {
  opcode: number;
  handle?: number;
  attributeType?: string;
  value?: Uint8Array;
  handles?: number[];
  frame: number;
}

interface ConnectionState {
  /** adapter << 16 | handle */
  key: number;
  connection: number;
  info: SessionInfo;
  device?: string;
  gatt: GattLearner;
  /** Latest request per direction and opcode ("host-to-device/10"). */
  requests: Map<string, PendingRequest>;
  prepared: Map<LinkDirection, { handle: number; offset: number; value: Uint8Array }[]>;
}

export interface AttExtractorOptions {
  onEvent?: (e: BluetoothEvent) => void;
}

export interface ConnectionInfo {
  connection: number;
  device?: string;
  firstFrame: number;
}

export class AttExtractor {
  private acl = new AclReassembler();
  private live = new Map<number, ConnectionState>();
  /** Every GATT learner, by connection handle + peer address, in order of appearance. */
  private learners = new Map<string, GattLearner>();
  /** Latest learner with discovery per peer address: a reconnection without discovery reuses it. */
  private byDevice = new Map<string, GattLearner>();
  private conns: ConnectionInfo[] = [];
  private sessionList: SessionInfo[] = [];
  /** The capture being read (set by the pipeline when a run reads several). */
  file: string | undefined;
  private lastFrame = 0;
  private lastTimeUs = 0;

  /** The record being pushed, for diagnostics (one bound callback instead of a closure per record). */
  private current: HciRecord | undefined;
  private readonly aclDiag = (d: AclDiagnostic) => {
    const rec = this.current!;
    this.emit({ kind: 'diagnostic', frame: rec.frame, timeUs: rec.timeUs, connection: d.connection, code: d.code, message: d.message });
  };

  constructor(private readonly opts: AttExtractorOptions = {}) {}

  private emit(e: BluetoothEvent): void {
    this.opts.onEvent?.(e);
  }

  private learner(connection: number, device: string | undefined): GattLearner {
    const k = `${connection}/${device ?? '?'}`;
    let l = this.learners.get(k);
    if (!l) {
      l = new GattLearner(connection, device);
      this.learners.set(k, l);
    }
    return l;
  }

  private newSession(adapter: number, connection: number, rec: HciRecord, device: string | undefined, connected: boolean): SessionInfo {
    const info: SessionInfo = { session: this.sessionList.length + 1, connection, adapter, startFrame: rec.frame, startTimeUs: rec.timeUs, connected, attPdus: 0 };
    if (device !== undefined) info.device = device;
    if (this.file !== undefined) info.file = this.file;
    this.sessionList.push(info);
    return info;
  }

  private state(adapter: number, connection: number, rec: HciRecord): ConnectionState {
    const key = adapter * 0x10000 + connection;
    let s = this.live.get(key);
    if (!s) {
      // Packets on a handle with no connection event: the capture began mid-connection (or after a reset).
      s = { key, connection, info: this.newSession(adapter, connection, rec, undefined, false), gatt: this.learner(connection, undefined), requests: new Map(), prepared: new Map() };
      this.live.set(key, s);
      this.conns.push({ connection, firstFrame: rec.frame });
    }
    return s;
  }

  /** Ends a live session: records how, and tells the next stages (a disconnect event). */
  private endSession(s: ConnectionState, frame: number, timeUs: number, end: SessionEnd, reason = -1): void {
    const i = s.info;
    i.endFrame = frame;
    i.endTimeUs = timeUs;
    i.end = end;
    if (this.file !== undefined && this.file !== i.file) i.endFile = this.file;
    if (end === 'disconnect') i.reason = reason;
    this.live.delete(s.key);
    this.acl.drop(s.connection, (d) => this.emit({ kind: 'diagnostic', frame, timeUs, connection: s.connection, code: d.code, message: d.message }), s.info.adapter);
    this.emit({ kind: 'disconnect', frame, timeUs, connection: s.connection, session: i.session, device: s.device, reason, end });
  }

  /**
   * Between two captures of one run: a session goes on into the next file only when that file
   * starts within `maxGapUs` of the last packet (Android rotates btsnoop_hci.log mid-session);
   * otherwise every live session ends here.
   */
  nextFile(file: string | undefined, firstTimeUs: number | undefined, maxGapUs = 60_000_000): void {
    const gap = firstTimeUs === undefined ? Infinity : firstTimeUs - this.lastTimeUs;
    if (!(gap >= 0 && gap <= maxGapUs)) for (const s of [...this.live.values()]) this.endSession(s, this.lastFrame, this.lastTimeUs, 'file-gap');
    this.file = file;
  }

  /** Feeds one HCI record; returns the ATT PDUs it completed (usually zero or one). */
  push(rec: HciRecord): AttPdu[] {
    const pdu = this.pushOne(rec);
    return pdu ? [pdu] : [];
  }

  /** Like push(), without an array per record (an HCI record completes at most one ATT PDU). */
  pushOne(rec: HciRecord): AttPdu | undefined {
    this.lastFrame = rec.frame;
    this.lastTimeUs = rec.timeUs;
    if (rec.packetType === HciPacketType.Event) {
      this.event(rec);
      return undefined;
    }
    if (rec.packetType !== HciPacketType.AclData) {
      // HCI_Reset (OGF 3, OCF 3): the controller forgets every connection (Bluetooth turned off and on).
      if (rec.packetType === HciPacketType.Command && rec.data[0] === 0x03 && rec.data[1] === 0x0c && this.live.size > 0) {
        for (const s of [...this.live.values()]) if (s.info.adapter === rec.adapter) this.endSession(s, rec.frame, rec.timeUs, 'reset');
      }
      return undefined;
    }
    this.current = rec;
    const l2 = this.acl.push(rec.data, rec.direction, rec.frame, rec.truncated, this.aclDiag, rec.adapter);
    if (!l2 || l2.cid !== ATT_CID || l2.end === l2.start) return undefined;
    return this.att(rec, l2);
  }

  private event(rec: HciRecord): void {
    const ev = parseConnectionEvent(rec.data);
    if (!ev) return;
    const key = rec.adapter * 0x10000 + ev.connection;
    if (ev.kind === 'connect') {
      const old = this.live.get(key);
      if (old) this.endSession(old, rec.frame, rec.timeUs, 'reconnect');
      const info = this.newSession(rec.adapter, ev.connection, rec, ev.device, true);
      const s: ConnectionState = { key, connection: ev.connection, device: ev.device, info, gatt: this.learner(ev.connection, ev.device), requests: new Map(), prepared: new Map() };
      this.live.set(key, s);
      this.conns.push({ connection: ev.connection, device: ev.device, firstFrame: rec.frame });
      this.emit({ kind: 'connect', frame: rec.frame, timeUs: rec.timeUs, connection: ev.connection, session: info.session, device: ev.device, addressType: ev.addressType, role: ev.role });
    } else if (ev.kind === 'encryption') {
      const s = this.live.get(key);
      if (s && s.info.encryptedFrame === undefined) s.info.encryptedFrame = rec.frame;
    } else {
      const s = this.live.get(key);
      if (s) this.endSession(s, rec.frame, rec.timeUs, 'disconnect', ev.reason);
      else {
        // A disconnection of a connection the capture never saw packets of: nothing to end.
        this.acl.drop(ev.connection, () => {}, rec.adapter);
      }
    }
  }

  private att(rec: HciRecord, l2: L2capFrame): AttPdu {
    const { connection, bytes, start, end } = l2;
    const s = this.state(rec.adapter, connection, rec);
    s.info.attPdus++;
    const op = bytes[start]!;
    const direction: LinkDirection =
      rec.direction === 'host-to-controller' ? 'host-to-device' : rec.direction === 'controller-to-host' ? 'device-to-host' : CLIENT_OPCODES.has(op) ? 'host-to-device' : 'device-to-host';
    if ((op === 0x1b || op === 0x52) && end - start >= 3) {
      // Notifications and write commands, the bulk of a capture: no request to answer or remember.
      const h = bytes[start + 1]! | (bytes[start + 2]! << 8);
      return this.pdu(rec, s, l2, direction, op, { handles: [h] }, h, bytes.subarray(start + 3, end));
    }
    const d = decodeAttPdu(bytes.subarray(start, end));
    const other: LinkDirection = direction === 'host-to-device' ? 'device-to-host' : 'host-to-device';
    const fields = d.fields;
    let handle = d.handle;
    // Requests are remembered per direction; a response (or error) in the other direction answers it.
    const answered = RESPONSE_OF[op];
    if (answered !== undefined || op === 0x01) {
      // Like Wireshark, a response answers the latest request of its kind (not consumed: a
      // duplicated response names the same request).
      const req = s.requests.get(`${other}/${op === 0x01 ? (fields.requestOpcode as number) : answered}`);
      if (req) {
        fields.requestFrame = req.frame;
        if (op === 0x0f && Array.isArray(req.handles)) d.handles.push(...req.handles);
        if (op === 0x0b || op === 0x0d || op === 0x13 || op === 0x1e) {
          // Wireshark shows the request's handle on these responses (btatt.handle).
          handle = req.handle;
          if (handle !== undefined) d.handles.push(handle);
        }
        this.learn(s, op, req, fields);
        if (op === 0x09 && req.attributeType === '2803') {
          // Wireshark shows a characteristic declaration's value handle as btatt.handle too.
          d.handles.length = 0;
          for (const e of listField<{ handle: number; value: Uint8Array }>(fields.attributeData)) {
            d.handles.push(e.handle);
            if (e.value.length >= 3) d.handles.push(e.value[1]! | (e.value[2]! << 8));
          }
        }
      }
    }
    if (RESPONSE_OF[op] === undefined && op !== 0x01 && op !== 0x1b && op !== 0x23 && op !== 0x52 && op !== 0xd2) {
      const req: PendingRequest = { opcode: op, handle: d.handle, frame: rec.frame };
      if (typeof fields.attributeType === 'string') req.attributeType = fields.attributeType;
      if (d.value) req.value = d.value;
      if (op === 0x0e || op === 0x20) req.handles = d.handles.slice();
      s.requests.set(`${direction}/${op}`, req);
    }
    if (op === 0x16 && d.handle !== undefined && d.value) {
      const q = s.prepared.get(direction) ?? [];
      q.push({ handle: d.handle, offset: fields.offset as number, value: d.value });
      s.prepared.set(direction, q);
    } else if (op === 0x18) {
      const q = s.prepared.get(direction) ?? [];
      s.prepared.delete(direction);
      if (fields.flags === 1) fields.longWrites = assembleLongWrites(q);
      else fields.cancelledWrites = q.length;
    }
    if (d.problem) {
      fields.malformed = d.problem;
      this.emit({ kind: 'diagnostic', frame: rec.frame, timeUs: rec.timeUs, connection, code: 'malformed-att', message: `malformed ${attOpcodeName(op)}: ${d.problem}` });
    }
    fields.handles = d.handles;
    return this.pdu(rec, s, l2, direction, op, fields, handle, d.value);
  }

  private pdu(rec: HciRecord, s: ConnectionState, l2: L2capFrame, direction: LinkDirection, op: number, fields: Record<string, unknown>, handle: number | undefined, value: Uint8Array | undefined): AttPdu {
    const pdu = new ExtractedPdu(rec.frame, l2, rec.timeUs, s.info.session, direction, op, fields);
    if (this.file !== undefined) pdu.file = this.file;
    if (s.device) pdu.device = s.device;
    if (handle !== undefined) {
      pdu.handle = handle;
      const uuid = this.uuidOf(s, handle);
      if (uuid) pdu.uuid = uuid;
    }
    if (value) pdu.value = value;
    return pdu;
  }

  private uuidOf(s: ConnectionState, handle: number): string | undefined {
    const u = s.gatt.uuidOf(handle);
    if (u !== undefined || !s.device) return u;
    return this.byDevice.get(s.device)?.uuidOf(handle);
  }

  /** Discovery responses fill the connection's GATT map. */
  private learn(s: ConnectionState, op: number, req: PendingRequest, fields: Record<string, unknown>): void {
    const g = s.gatt;
    if (op === 0x11) {
      const primary = req.attributeType !== '2801';
      for (const e of listField<{ startHandle: number; endHandle: number; uuid: string }>(fields.attributeData)) g.service(e.startHandle, e.endHandle, e.uuid, primary);
    } else if (op === 0x07 && req.value) {
      const uuid = uuidFromLe(req.value);
      for (const e of listField<{ handle: number; groupEndHandle: number }>(fields.handlesInformation)) g.service(e.handle, e.groupEndHandle, uuid, req.attributeType !== '2801');
    } else if (op === 0x09 && req.attributeType) {
      for (const e of listField<{ handle: number; value: Uint8Array }>(fields.attributeData)) g.readByType(req.attributeType, e.handle, e.value);
    } else if (op === 0x05) {
      for (const e of listField<{ handle: number; uuid: string }>(fields.information)) g.information(e.handle, e.uuid);
    } else return;
    if (s.device && !g.empty) this.byDevice.set(s.device, g);
  }

  /** End of capture: partial L2CAP frames are reported. */
  finish(): void {
    for (const s of this.live.values()) {
      this.acl.drop(s.connection, (d) => this.emit({ kind: 'diagnostic', frame: 0, timeUs: 0, connection: s.connection, code: d.code, message: d.message }), s.info.adapter);
      Object.assign(s.info, { endFrame: this.lastFrame, endTimeUs: this.lastTimeUs, end: 'end-of-capture' });
      if (this.file !== undefined && this.file !== s.info.file) s.info.endFile = this.file;
    }
  }

  /** Every connection session so far, in capture order (ended or live). */
  sessions(): SessionInfo[] {
    return this.sessionList;
  }

  /** GATT databases learned so far, one per connection handle + peer address that had discovery. */
  gattDatabases(): GattDatabase[] {
    return [...this.learners.values()].filter((l) => !l.empty).map((l) => l.database());
  }

  /** The learner that gives UUIDs for a connection (its own, or the device's from an earlier connection). */
  gattFor(connection: number, device?: string): GattLearner | undefined {
    const own = this.learners.get(`${connection}/${device ?? '?'}`);
    if (own && !own.empty) return own;
    return device ? this.byDevice.get(device) : own;
  }

  connections(): ConnectionInfo[] {
    return this.conns;
  }
}

/**
 * An ATT PDU as the extractor makes it: `raw` is a view made when read (few consumers read it; a view is
 * about 45 ns and 100 bytes of young garbage per PDU); the other fields are plain own properties, in
 * the order the extractor always gave them (declared, not defined: the constructor assigns them once).
 */
class ExtractedPdu implements AttPdu {
  declare frame: number;
  declare frames: number[];
  declare timeUs: number;
  declare connection: number;
  declare session: number;
  declare direction: LinkDirection;
  declare opcode: number;
  declare opcodeName: string;
  declare fields: Record<string, unknown>;
  declare truncated: boolean;
  declare file?: string;
  declare device?: string;
  declare handle?: number;
  declare uuid?: string;
  declare value?: Uint8Array;
  readonly #l2: L2capFrame;

  constructor(frame: number, l2: L2capFrame, timeUs: number, session: number, direction: LinkDirection, opcode: number, fields: Record<string, unknown>) {
    this.frame = frame;
    this.frames = l2.frames;
    this.timeUs = timeUs;
    this.connection = l2.connection;
    this.session = session;
    this.direction = direction;
    this.opcode = opcode;
    this.opcodeName = attOpcodeName(opcode);
    this.fields = fields;
    this.truncated = l2.truncated;
    this.#l2 = l2;
  }

  get raw(): Uint8Array {
    const l2 = this.#l2;
    return l2.bytes.subarray(l2.start, l2.end);
  }
}

/** A list field of a decoded PDU; none (a malformed PDU) is an empty list. */
function listField<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function assembleLongWrites(q: { handle: number; offset: number; value: Uint8Array }[]): { handle: number; value: string }[] {
  const byHandle = new Map<number, { offset: number; value: Uint8Array }[]>();
  for (const p of q) {
    const l = byHandle.get(p.handle) ?? [];
    l.push(p);
    byHandle.set(p.handle, l);
  }
  const out: { handle: number; value: string }[] = [];
  for (const [handle, parts] of byHandle) {
    parts.sort((a, b) => a.offset - b.offset);
    // A loop, not Math.max(...spread): a capture can queue more writes than a call has arguments.
    let len = 0;
    for (const p of parts) len = Math.max(len, p.offset + p.value.length);
    const buf = new Uint8Array(len);
    for (const p of parts) buf.set(p.value, p.offset);
    out.push({ handle, value: toHex(buf) });
  }
  return out;
}

/** Synchronous helper: all ATT PDUs of a list of records. */
export function extractAtt(records: Iterable<HciRecord>, opts: AttExtractorOptions = {}): { pdus: AttPdu[]; extractor: AttExtractor } {
  const ex = new AttExtractor(opts);
  const pdus: AttPdu[] = [];
  for (const r of records) pdus.push(...ex.push(r));
  ex.finish();
  return { pdus, extractor: ex };
}
