/**
 * A small capture writer for fixtures: HCI packets built by hand (Core spec layouts), written as
 * btsnoop (1001/1002/2001), pcap (either byte order, µs or ns) and pcapng. Wireshark's editcap
 * converts the btsnoop output too, so the readers are also tested on files written by Wireshark.
 */

export type Dir = 'sent' | 'received';

export interface HciPacket {
  /** H4 type: 1 command, 2 ACL, 3 SCO, 4 event. */
  type: number;
  dir: Dir;
  /** HCI packet without the H4 type byte. */
  data: Uint8Array;
  /** Unix time, microseconds. */
  timeUs: number;
  /** Bytes kept (truncate the record like a snaplen / Android filtered log). */
  keep?: number;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const u16le = (n: number) => [n & 0xff, (n >> 8) & 0xff];

export function concatBytes(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

// ---- HCI packets ----

/** LE Connection Complete event (0x3e/0x01). `address` as "aa:bb:cc:dd:ee:ff"; role 0 = central. */
export function leConnectionComplete(handle: number, address: string, opts: { role?: number; addressType?: number } = {}): Uint8Array {
  const addr = address.split(':').reverse().map((h) => parseInt(h, 16));
  const params = [0x01, 0x00, ...u16le(handle), opts.role ?? 0, opts.addressType ?? 1, ...addr, ...u16le(0x0027), ...u16le(0), ...u16le(0x01f4), 0x00];
  return Uint8Array.from([0x3e, params.length, ...params]);
}

/** LE Enhanced Connection Complete (0x3e/0x0a). */
export function leEnhancedConnectionComplete(handle: number, address: string): Uint8Array {
  const addr = address.split(':').reverse().map((h) => parseInt(h, 16));
  const params = [0x0a, 0x00, ...u16le(handle), 0x00, 0x01, ...addr, ...new Array(12).fill(0), ...u16le(0x0027), ...u16le(0), ...u16le(0x01f4), 0x00];
  return Uint8Array.from([0x3e, params.length, ...params]);
}

export function disconnectionComplete(handle: number, reason = 0x13): Uint8Array {
  return Uint8Array.from([0x05, 4, 0x00, ...u16le(handle), reason]);
}

/** One report of an LE Advertising Report event (Core spec Vol 4, Part E, 7.7.65.2). */
export interface LegacyReport {
  eventType?: number;
  addressType?: number;
  address: string;
  data: Uint8Array;
  /** dBm, or 127 (not available). */
  rssi: number;
}

/** LE Advertising Report (0x3e/0x02): each report's fields in turn, as controllers send them. */
export function leAdvertisingReport(reports: LegacyReport[]): Uint8Array {
  const params: number[] = [0x02, reports.length];
  for (const r of reports) {
    const addr = r.address.split(':').reverse().map((h) => parseInt(h, 16));
    params.push(r.eventType ?? 0x00, r.addressType ?? 0x01, ...addr, r.data.length, ...r.data, r.rssi & 0xff);
  }
  return Uint8Array.from([0x3e, params.length, ...params]);
}

/** One report of an LE Extended Advertising Report event (7.7.65.13). */
export interface ExtendedReport {
  eventType?: number;
  addressType?: number;
  address: string;
  primaryPhy?: number;
  secondaryPhy?: number;
  sid?: number;
  txPower?: number;
  rssi: number;
  data: Uint8Array;
}

/** LE Extended Advertising Report (0x3e/0x0d). */
export function leExtendedAdvertisingReport(reports: ExtendedReport[]): Uint8Array {
  const params: number[] = [0x0d, reports.length];
  for (const r of reports) {
    const addr = r.address.split(':').reverse().map((h) => parseInt(h, 16));
    params.push(...u16le(r.eventType ?? 0x0013), r.addressType ?? 0x01, ...addr, r.primaryPhy ?? 1, r.secondaryPhy ?? 0, r.sid ?? 0xff, (r.txPower ?? 127) & 0xff, r.rssi & 0xff, ...u16le(0), 0, 0, 0, 0, 0, 0, 0, r.data.length, ...r.data);
  }
  return Uint8Array.from([0x3e, params.length, ...params]);
}

/** AD structures from [type, bytes] pairs. */
export function adStructures(...items: [number, Uint8Array | string][]): Uint8Array {
  return concatBytes(...items.map(([type, v]) => {
    const body = typeof v === 'string' ? Uint8Array.from(Buffer.from(v, 'utf8')) : v;
    return concatBytes([body.length + 1, type], body);
  }));
}

/** Number Of Completed Packets event: noise between fragments. */
export function completedPackets(handle: number): Uint8Array {
  return Uint8Array.from([0x13, 5, 1, ...u16le(handle), 1, 0]);
}

/** HCI LE Set Scan Enable command: host-to-controller noise. */
export function command(opcode: number, params: number[] = []): Uint8Array {
  return Uint8Array.from([...u16le(opcode), params.length, ...params]);
}

/**
 * ACL packets carrying one L2CAP frame (CID 4 = ATT), cut into fragments of at most `maxFragment`
 * bytes of ACL payload: first fragment PB=10 (or 00 host-to-controller), then PB=01.
 */
export function aclFragments(handle: number, attPdu: Uint8Array, maxFragment = 27, cid = 4, firstPb = 0b10): Uint8Array[] {
  const l2 = concatBytes(u16le(attPdu.length), u16le(cid), attPdu);
  const out: Uint8Array[] = [];
  for (let o = 0; o < l2.length; o += maxFragment) {
    const part = l2.subarray(o, Math.min(l2.length, o + maxFragment));
    const pb = o === 0 ? firstPb : 0b01;
    out.push(concatBytes(u16le(handle | (pb << 12)), u16le(part.length), part));
  }
  return out;
}

// ---- ATT PDUs ----
export const att = {
  mtuReq: (mtu: number) => Uint8Array.from([0x02, ...u16le(mtu)]),
  mtuRsp: (mtu: number) => Uint8Array.from([0x03, ...u16le(mtu)]),
  readByGroupTypeReq: (start: number, end: number, type = 0x2800) => Uint8Array.from([0x10, ...u16le(start), ...u16le(end), ...u16le(type)]),
  /** Services: [start, end, uuid LE bytes] with equal uuid sizes. */
  readByGroupTypeRsp: (groups: [number, number, Uint8Array][]) => concatBytes([0x11, 4 + groups[0]![2].length], ...groups.map(([s, e, u]) => concatBytes(u16le(s), u16le(e), u))),
  readByTypeReq: (start: number, end: number, type = 0x2803) => Uint8Array.from([0x08, ...u16le(start), ...u16le(end), ...u16le(type)]),
  /** Characteristic declarations: [declHandle, properties, valueHandle, uuid LE]. */
  readByTypeRspChars: (chars: [number, number, number, Uint8Array][]) =>
    concatBytes([0x09, 2 + 3 + chars[0]![3].length], ...chars.map(([h, p, v, u]) => concatBytes(u16le(h), [p], u16le(v), u))),
  findInfoReq: (start: number, end: number) => Uint8Array.from([0x04, ...u16le(start), ...u16le(end)]),
  findInfoRsp16: (pairs: [number, number][]) => concatBytes([0x05, 0x01], ...pairs.map(([h, u]) => concatBytes(u16le(h), u16le(u)))),
  findByTypeValueReq: (start: number, end: number, type: number, value: Uint8Array) => concatBytes([0x06], u16le(start), u16le(end), u16le(type), value),
  findByTypeValueRsp: (pairs: [number, number][]) => concatBytes([0x07], ...pairs.map(([h, e]) => concatBytes(u16le(h), u16le(e)))),
  readReq: (h: number) => Uint8Array.from([0x0a, ...u16le(h)]),
  readRsp: (v: Uint8Array) => concatBytes([0x0b], v),
  readBlobReq: (h: number, off: number) => Uint8Array.from([0x0c, ...u16le(h), ...u16le(off)]),
  readBlobRsp: (v: Uint8Array) => concatBytes([0x0d], v),
  readMultipleReq: (hs: number[]) => concatBytes([0x0e], ...hs.map(u16le)),
  readMultipleRsp: (v: Uint8Array) => concatBytes([0x0f], v),
  error: (reqOp: number, h: number, code: number) => Uint8Array.from([0x01, reqOp, ...u16le(h), code]),
  writeReq: (h: number, v: Uint8Array) => concatBytes([0x12], u16le(h), v),
  writeRsp: () => Uint8Array.from([0x13]),
  writeCmd: (h: number, v: Uint8Array) => concatBytes([0x52], u16le(h), v),
  signedWrite: (h: number, v: Uint8Array) => concatBytes([0xd2], u16le(h), v, new Array(12).fill(0xab)),
  prepareWriteReq: (h: number, off: number, v: Uint8Array) => concatBytes([0x16], u16le(h), u16le(off), v),
  prepareWriteRsp: (h: number, off: number, v: Uint8Array) => concatBytes([0x17], u16le(h), u16le(off), v),
  executeWriteReq: (flags: number) => Uint8Array.from([0x18, flags]),
  executeWriteRsp: () => Uint8Array.from([0x19]),
  notify: (h: number, v: Uint8Array) => concatBytes([0x1b], u16le(h), v),
  indicate: (h: number, v: Uint8Array) => concatBytes([0x1d], u16le(h), v),
  confirm: () => Uint8Array.from([0x1e]),
};

/** 128-bit UUID string -> little-endian bytes, as ATT carries it. */
export function uuid128(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/-/g, ''), 'hex').reverse());
}

// ---- file formats ----

const BTSNOOP_EPOCH_US = 0x00dcddb30f2f8000n;

/** btsnoop. datalink 1002 (H4), 1001 (un-encapsulated; type in the flags) or 2001 (Linux monitor). */
export function writeBtsnoop(packets: HciPacket[], datalink: 1001 | 1002 | 2001 = 1002, adapter = 0): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(16);
  head.write('btsnoop\0', 0, 'latin1');
  head.writeUInt32BE(1, 8);
  head.writeUInt32BE(datalink, 12);
  parts.push(head);
  for (const p of packets) {
    const body = datalink === 1002 ? concatBytes([p.type], p.data) : p.data;
    const kept = body.subarray(0, p.keep !== undefined ? p.keep + (datalink === 1002 ? 1 : 0) : body.length);
    const rec = Buffer.alloc(24);
    rec.writeUInt32BE(body.length, 0);
    rec.writeUInt32BE(kept.length, 4);
    let flags: number;
    if (datalink === 2001) {
      const op = p.type === 1 ? 2 : p.type === 4 ? 3 : p.type === 2 ? (p.dir === 'sent' ? 4 : 5) : p.dir === 'sent' ? 6 : 7;
      flags = ((adapter << 16) | op) >>> 0;
    } else {
      flags = (p.dir === 'received' ? 1 : 0) | (p.type === 1 || p.type === 4 ? 2 : 0);
    }
    rec.writeUInt32BE(flags, 8);
    rec.writeUInt32BE(0, 12);
    rec.writeBigInt64BE(BigInt(p.timeUs) + BTSNOOP_EPOCH_US, 16);
    parts.push(rec, Buffer.from(kept));
  }
  return Buffer.concat(parts);
}

/** Classic pcap, link type 201 (H4 with direction word) or 187 (plain H4). */
export function writePcap(packets: HciPacket[], opts: { bigEndian?: boolean; nanoseconds?: boolean; linkType?: 187 | 201 } = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const linkType = opts.linkType ?? 201;
  const w32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const head = Buffer.alloc(24);
  w32(head, opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  if (be) {
    head.writeUInt16BE(2, 4);
    head.writeUInt16BE(4, 6);
  } else {
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
  }
  w32(head, 0xffff, 16);
  w32(head, linkType, 20);
  const parts: Buffer[] = [head];
  for (const p of packets) {
    const phdr = linkType === 201 ? [0, 0, 0, p.dir === 'received' ? 1 : 0] : [];
    const body = concatBytes(phdr, [p.type], p.data);
    const kept = body.subarray(0, p.keep !== undefined ? phdr.length + 1 + p.keep : body.length);
    const rec = Buffer.alloc(16);
    w32(rec, Math.floor(p.timeUs / 1e6), 0);
    w32(rec, opts.nanoseconds ? (p.timeUs % 1e6) * 1000 + 123 : p.timeUs % 1e6, 4);
    w32(rec, kept.length, 8);
    w32(rec, body.length, 12);
    parts.push(rec, Buffer.from(kept));
  }
  return Buffer.concat(parts);
}

function pad4(b: Buffer): Buffer {
  return b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
}

function block(type: number, body: Buffer, be: boolean): Buffer {
  const len = 12 + body.length;
  const h = Buffer.alloc(8);
  const t = Buffer.alloc(4);
  if (be) {
    h.writeUInt32BE(type, 0);
    h.writeUInt32BE(len, 4);
    t.writeUInt32BE(len, 0);
  } else {
    h.writeUInt32LE(type, 0);
    h.writeUInt32LE(len, 4);
    t.writeUInt32LE(len, 0);
  }
  return Buffer.concat([h, body, t]);
}

/**
 * pcapng: one section per entry of `sections` (each with its byte order), one interface (link 201)
 * per section with the given if_tsresol (6 = µs, 9 = ns), Enhanced Packet Blocks; `simple` writes
 * Simple Packet Blocks instead; `extraBlocks` inserts an unknown block before the packets.
 */
export function writePcapng(sections: { packets: HciPacket[]; bigEndian?: boolean; tsresol?: number; simple?: boolean; extraBlock?: boolean }[]): Buffer {
  const out: Buffer[] = [];
  for (const s of sections) {
    const be = s.bigEndian ?? false;
    const w16 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
    const w32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
    const shb = Buffer.alloc(16);
    w32(shb, 0x1a2b3c4d, 0);
    w16(shb, 1, 4);
    w16(shb, 0, 6);
    shb.writeInt32LE(-1, 8);
    shb.writeInt32LE(-1, 12);
    out.push(block(0x0a0d0d0a, shb, be));
    const res = s.tsresol ?? 6;
    const idb = Buffer.alloc(8 + 8 + 4);
    w16(idb, 201, 0);
    w32(idb, 0x40000, 4);
    w16(idb, 9, 8); // if_tsresol
    w16(idb, 1, 10);
    idb[12] = res;
    // end of options
    w16(idb, 0, 16);
    w16(idb, 0, 18);
    out.push(block(1, idb, be));
    if (s.extraBlock) {
      // A custom block (Wireshark shows it as a frame) and a block of an unassigned type (skipped).
      const custom = Buffer.alloc(8);
      w32(custom, 0x7570_6e6e, 0);
      out.push(block(0x0bad, custom, be));
      out.push(block(0x0000_7777, Buffer.from('unassigned block body...'), be));
    }
    for (const p of s.packets) {
      const body = Buffer.from(concatBytes([0, 0, 0, p.dir === 'received' ? 1 : 0], [p.type], p.data));
      const kept = body.subarray(0, p.keep !== undefined ? 5 + p.keep : body.length);
      if (s.simple) {
        const h = Buffer.alloc(4);
        w32(h, body.length, 0);
        out.push(block(3, Buffer.concat([h, pad4(Buffer.from(body))]), be));
        continue;
      }
      const ticks = (BigInt(p.timeUs) * 10n ** BigInt(res)) / 1_000_000n;
      const h = Buffer.alloc(20);
      w32(h, 0, 0);
      w32(h, Number(ticks >> 32n), 4);
      w32(h, Number(ticks & 0xffffffffn), 8);
      w32(h, kept.length, 12);
      w32(h, body.length, 16);
      out.push(block(6, Buffer.concat([h, pad4(Buffer.from(kept))]), be));
    }
  }
  return Buffer.concat(out);
}
