/**
 * Building Victron GATT sessions for sample captures and tests: connections, discovery, app writes and
 * device transfers cut into pieces over Data/LastData, with the frame of each value's last byte recorded.
 */
import { aclFragments, att, hex, uuid128, type HciPacket } from './capture-writer.js';

/** What a 0x08 value must decode to: written by hand. */
export interface Expect {
  register: number;
  raw: string;
  value?: number | string | Record<string, number | null>;
  unit?: string;
  name?: string;
}

export interface Expected {
  capture: string;
  connections: { connection: number; device: string; profile: string }[];
  /** Every type 0x08 message, in capture order, with the frame that completes it. */
  values: (Expect & { frame: number; instance: number })[];
  /** Other records we know must be there. */
  unknown: number;
  padding: number;
  control: number;
}

export class Session {
  packets: HciPacket[] = [];
  t: number;
  values: Expected['values'] = [];
  unknown = 0;
  padding = 0;
  control = 0;
  constructor(t0: number) {
    this.t = t0;
  }
  get frame(): number {
    return this.packets.length;
  }
  ev(data: Uint8Array) {
    this.packets.push({ type: 4, dir: 'received', data, timeUs: (this.t += 700) });
  }
  send(conn: number, pdu: Uint8Array, frag = 27) {
    for (const f of aclFragments(conn, pdu, frag, 4, 0b00)) this.packets.push({ type: 2, dir: 'sent', data: f, timeUs: (this.t += 900) });
  }
  recv(conn: number, pdu: Uint8Array, frag = 27) {
    for (const f of aclFragments(conn, pdu, frag)) this.packets.push({ type: 2, dir: 'received', data: f, timeUs: (this.t += 1100) });
  }
  /** A request/response pair. */
  rr(conn: number, req: Uint8Array, rsp: Uint8Array) {
    this.send(conn, req);
    this.recv(conn, rsp);
  }
}

/**
 * Device-to-app transfer: messages joined, cut into `chunk`-byte pieces, on Data (0x1b notifications)
 * with the last on LastData. `pad` puts a 0xff between two messages (after message index pad).
 */
export function deviceTransfer(s: Session, conn: number, h: { lastData: number; data: number }, msgs: { hex: string; expect?: Expect; instance?: number }[], chunk: number, opts: { pad?: number; frag?: number } = {}) {
  let stream = '';
  const ends: { end: number; m: (typeof msgs)[number] }[] = [];
  msgs.forEach((m, i) => {
    stream += m.hex;
    ends.push({ end: stream.length / 2, m });
    if (opts.pad === i) {
      stream += 'ff';
      s.padding++;
    }
  });
  const bytes = hex(stream);
  const pieces = Math.ceil(bytes.length / chunk);
  for (let i = 0; i < pieces; i++) {
    const piece = bytes.subarray(i * chunk, Math.min(bytes.length, (i + 1) * chunk));
    const handle = i === pieces - 1 ? h.lastData : h.data;
    s.recv(conn, att.notify(handle, piece), opts.frag ?? 27);
    const end = Math.min(bytes.length, (i + 1) * chunk);
    for (const e of ends) if (e.end > i * chunk && e.end <= end && e.m.expect) s.values.push({ ...e.m.expect, frame: s.frame, instance: e.m.instance ?? 3 });
  }
}

export function appWritesFrom(s: Session, conn: number, writes: { handle: number; hex: string; commentedOut: boolean }[], opts: { frag?: number } = {}) {
  for (const w of writes.filter((x) => !x.commentedOut)) {
    s.send(conn, att.writeCmd(w.handle, hex(w.hex)), opts.frag);
    if (/^f[9a]/.test(w.hex) && (w.handle === 0x21 || w.handle === 0x1b)) s.control++;
  }
}

export const V = (n: number, svc = 'd0') => `306b000${n}-b081-4037-83dc-e59fcc3cdf${svc}`;
export const u16 = (u: number) => Uint8Array.from([u & 0xff, u >> 8]);

/** GATT discovery of a SmartShunt-like layout with the Victron service at `base` (control = base+2). */
export function discovery(s: Session, conn: number, name: string, base: number) {
  s.rr(conn, att.mtuReq(517), att.mtuRsp(23));
  s.rr(conn, att.readReq(3), att.readRsp(Buffer.from(name)));
  s.rr(conn, att.readByGroupTypeReq(1, 0xffff), att.readByGroupTypeRsp([[1, 9, u16(0x1800)], [10, 13, u16(0x1801)]]));
  s.rr(conn, att.readByTypeReq(1, 9), att.readByTypeRspChars([[2, 0x02, 3, u16(0x2a00)], [4, 0x02, 5, u16(0x2a01)]]));
  s.rr(conn, att.readByGroupTypeReq(14, 0xffff), att.readByGroupTypeRsp([[14, 19, uuid128('68c10001-b17f-4d3a-a290-34ad6499937c')]]));
  s.rr(conn, att.readByGroupTypeReq(20, 0xffff), att.readByGroupTypeRsp([[20, base - 1, uuid128('97580001-ddf1-48be-b73e-182664615d8e')]]));
  s.rr(conn, att.readByGroupTypeReq(base, 0xffff), att.readByGroupTypeRsp([[base, 0xffff, uuid128(V(1))]]));
  s.rr(conn, att.readByTypeReq(base, 0xffff), att.readByTypeRspChars([[base + 1, 0x1a, base + 2, uuid128(V(2))]]));
  s.rr(conn, att.readByTypeReq(base + 2, 0xffff), att.readByTypeRspChars([[base + 4, 0x1a, base + 5, uuid128(V(3))]]));
  s.rr(conn, att.readByTypeReq(base + 5, 0xffff), att.readByTypeRspChars([[base + 7, 0x1a, base + 8, uuid128(V(4))]]));
  s.rr(conn, att.findInfoReq(base + 9, base + 9), att.findInfoRsp16([[base + 9, 0x2902]]));
  for (const cccd of [base + 3, base + 6, base + 9]) s.rr(conn, att.writeReq(cccd, hex('0100')), att.writeRsp());
}

