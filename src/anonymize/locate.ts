/**
 * Finds the identifying bytes of a capture and where each of them lies in the file.
 *
 * Every layer is mapped back to file offsets, so a value is replaced in place wherever the
 * layers above found it: an HCI record's bytes start at `dataOffset`; an L2CAP frame is the
 * concatenation of its ACL fragments' payloads (each a file segment); an ATT value is a slice of
 * its PDU; a Victron message is the concatenation of the slices of ATT values its `ranges` name.
 * A register value that Victron's stream spreads over several notifications (and ACL fragments)
 * is therefore patched in each of them, byte for byte. Stand-ins have the original's length, so
 * no length field, CBOR head or fragment boundary changes: the framing of every layer stays valid.
 *
 * Two passes over the records: `learn` collects the originals (so that no stand-in equals one, and
 * so that values found late, e.g. a serial number in register 0x010A, are also replaced where they
 * came earlier); `patch` draws the stand-ins and lists the byte patches.
 */
import type { HciRecord } from '../capture/types.js';
import { HciPacketType } from '../capture/types.js';
import { formatAddress, hciSites, type AttPdu, type ByteSite } from '../bluetooth/index.js';
import { toHex } from '../util/cursor.js';
import { parseMessage, readItem, type CborItem, type VictronRecord } from '../victron/index.js';
import { decryptReadout, parseAdvertisingData, parseAdvertisingReports, parseVictronManufacturerData, VICTRON_COMPANY_ID } from '../adverts/index.js';
import { SENSITIVE_BY_ID, SERIAL_PATTERN, type RegisterSecret } from './registers.js';
import type { StandIns } from './standins.js';

/** File segments of a logical byte sequence, flat: [fileOffset, length, fileOffset, length, ...]. */
export type Segments = number[];

export interface Patch {
  offset: number;
  bytes: Uint8Array;
}

export interface LocateWarning {
  frame: number;
  message: string;
}

/** The file segments of bytes [start, start + length) of a sequence. */
export function subSegments(segs: Segments, start: number, length: number): Segments {
  const out: Segments = [];
  let pos = 0;
  const end = start + length;
  for (let i = 0; i < segs.length && pos < end; i += 2) {
    const off = segs[i]!;
    const len = segs[i + 1]!;
    const a = Math.max(start, pos);
    const b = Math.min(end, pos + len);
    if (b > a) out.push(off + (a - pos), b - a);
    pos += len;
  }
  return out;
}

function segmentsLength(segs: Segments): number {
  let n = 0;
  for (let i = 1; i < segs.length; i += 2) n += segs[i]!;
  return n;
}

const isFill = (b: Uint8Array) => b.every((x) => x === 0) || b.every((x) => x === 0xff);

export interface LocateCounts {
  addresses: number;
  serials: number;
  secrets: number;
  /** Byte ranges patched. */
  places: number;
}

export class Locator {
  readonly patches: Patch[] = [];
  readonly warnings: LocateWarning[] = [];
  places = 0;
  /** Records whose bytes have no file offset (read from a zip or a text dump): they cannot be patched. */
  unplaced = 0;
  /** ACL payload of each ACL record not yet used by a PDU: frame -> [fileOffset, length]. */
  private acl = new Map<number, [number, number]>();
  /** Segments of ATT values, by the frame that completed the PDU (what Victron ranges name). */
  private values = new Map<number, number | Segments>();
  /** Addresses worth looking for anywhere (connections and local controller, not every advertiser). */
  private readonly sweepAddresses = new Map<string, string>();
  /** Serial numbers and long secrets, as bytes (hex key), looked for anywhere. */
  private readonly sweepSerials = new Map<string, string>();
  private readonly sweepSecrets = new Map<string, ['bytes' | 'text', string]>();
  /** MAC register values, decided at the end of the learn pass (byte order). */
  private readonly registerAddresses = new Set<string>();
  /** MAC register values that hold a known address in reverse byte order. */
  private readonly reversedAddresses = new Set<string>();
  private lastMessageBytes: Uint8Array | undefined;
  private lastSweptBytes: Uint8Array | undefined;
  private unmappedWarned = 0;

  mode: 'learn' | 'patch' = 'learn';

  constructor(readonly standIns: StandIns) {}

  /** The learn pass is over: decide what the registers' addresses are, draw the sweeps' stand-ins. */
  beginPatch(): void {
    for (const hex of this.registerAddresses) {
      const v = Buffer.from(hex, 'hex');
      const rev = Buffer.from(v).reverse();
      if (this.standIns.isReserved('address', rev) && !this.standIns.isReserved('address', v)) this.reversedAddresses.add(hex);
      else {
        this.standIns.reserve('address', v);
        this.sweepAddresses.set(hex, 'register 0xEC66');
      }
    }
    this.mode = 'patch';
    this.patterns();
  }

  // ---- patching ----

  private write(segs: Segments, start: number, bytes: Uint8Array): void {
    const sub = subSegments(segs, start, bytes.length);
    let k = 0;
    for (let i = 0; i < sub.length; i += 2) {
      const len = sub[i + 1]!;
      this.patches.push({ offset: sub[i]!, bytes: bytes.subarray(k, k + len) });
      k += len;
    }
    this.places++;
  }

  private address(bytes: Uint8Array, segs: Segments, start: number, what: string, sweep: boolean): void {
    const orig = bytes.subarray(start, start + 6);
    if (orig.length < 6) return this.secret(bytes, segs, start, orig.length, what);
    if (isFill(orig)) return;
    if (this.mode === 'learn') {
      this.standIns.reserve('address', orig);
      if (sweep && !this.sweepAddresses.has(toHex(orig))) this.sweepAddresses.set(toHex(orig), what);
      return;
    }
    this.write(segs, start, this.standIns.address(orig, what));
  }

  private secret(bytes: Uint8Array, segs: Segments, start: number, length: number, what: string): void {
    const orig = bytes.subarray(start, start + length);
    if (orig.length === 0 || isFill(orig)) return;
    if (this.mode === 'learn') {
      this.standIns.reserve('bytes', orig);
      if (orig.length >= 8) this.sweepSecrets.set(toHex(orig), ['bytes', what]);
      return;
    }
    this.write(segs, start, this.standIns.bytes(orig, what));
  }

  private text(bytes: Uint8Array, segs: Segments, start: number, length: number, what: string, serial: boolean): void {
    let n = 0;
    while (n < length && bytes[start + n] !== 0 && bytes[start + n] !== 0xff) n++;
    const orig = bytes.subarray(start, start + n);
    if (n === 0) return;
    if (this.mode === 'learn') {
      this.standIns.reserve(serial ? 'serial' : 'text', orig);
      if (serial) this.sweepSerials.set(toHex(orig), what);
      else if (n >= 8) this.sweepSecrets.set(toHex(orig), ['text', what]);
      return;
    }
    this.write(segs, start, serial ? this.standIns.serial(orig, what) : this.standIns.text(orig, what));
  }

  /** Serial numbers by pattern (learn) and every known serial, address and long secret (patch). */
  private sweep(bytes: Uint8Array, segs: Segments): void {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.mode === 'learn') {
      if (b.indexOf('HQ', 0, 'latin1') < 0) return;
      for (const m of b.toString('latin1').matchAll(SERIAL_PATTERN)) {
        const s = Buffer.from(m[0], 'latin1');
        this.standIns.reserve('serial', s);
        if (!this.sweepSerials.has(toHex(s))) this.sweepSerials.set(toHex(s), 'serial number in a name or text');
      }
      return;
    }
    for (const [pattern, standIn] of this.patterns()) {
      for (let at = b.indexOf(pattern); at >= 0; at = b.indexOf(pattern, at + pattern.length)) this.write(segs, at, standIn);
    }
  }

  private patternCache: [Buffer, Uint8Array][] | undefined;

  /**
   * What the sweeps look for, each with its stand-in: connection and controller addresses in both
   * byte orders and as text ("AA:BB:..", either case), serial numbers, secrets of 8 bytes or more.
   * Only meaningful once the learn pass is over.
   */
  patterns(): [Buffer, Uint8Array][] {
    if (this.patternCache) return this.patternCache;
    const out: [Buffer, Uint8Array][] = [];
    for (const [hex, where] of this.sweepAddresses) {
      const le = Buffer.from(hex, 'hex');
      const s = Buffer.from(this.standIns.address(le, where));
      out.push([le, s], [Buffer.from(le).reverse(), Buffer.from(s).reverse()]);
      out.push([Buffer.from(formatAddress(le), 'latin1'), Buffer.from(formatAddress(s), 'latin1')]);
      out.push([Buffer.from(formatAddress(le).toUpperCase(), 'latin1'), Buffer.from(formatAddress(s).toUpperCase(), 'latin1')]);
    }
    for (const [hex, where] of this.sweepSerials) {
      const o = Buffer.from(hex, 'hex');
      out.push([o, this.standIns.serial(o, where)]);
    }
    for (const [hex, [category, where]] of this.sweepSecrets) {
      const o = Buffer.from(hex, 'hex');
      out.push([o, category === 'bytes' ? this.standIns.bytes(o, where) : this.standIns.text(o, where)]);
    }
    // Longest first: a serial inside a longer secret is replaced as part of it.
    out.sort((a, b) => b[0].length - a[0].length);
    this.patternCache = out;
    return out;
  }

  // ---- layers ----

  /** One HCI record: its addresses and keys, and (ACL) its payload's place for the layers above. */
  hci(rec: HciRecord): void {
    const off = rec.dataOffset;
    if (off === undefined) {
      this.unplaced++;
      return;
    }
    const data = rec.data;
    const packet = rec.packetType;
    // ACL packets: only SMP (single-fragment) has sites; skip the site lookup for the bulk of ATT traffic.
    const segs: Segments = [off, data.length];
    if (packet !== HciPacketType.AclData || (data.length >= 8 && data[6] === 0x06 && data[7] === 0x00)) {
      for (const s of hciSites(packet, data, rec.monitorOpcode)) this.site(data, segs, s);
    }
    if (packet === HciPacketType.Event && data[0] === 0x3e) this.adverts(data, segs);
    if (this.mode === 'learn') {
      this.sweep(data, segs);
      return; // nothing is written in this pass: the file places of the layers above are not needed
    }
    if (packet === HciPacketType.AclData && data.length >= 4) {
      const aclLen = data[2]! | (data[3]! << 8);
      this.acl.set(rec.frame, [off + 4, Math.max(0, Math.min(data.length - 4, aclLen))]);
      if (this.acl.size > 8192) {
        // Fragments no PDU used (other L2CAP channels, lost starts): forget the oldest half.
        let n = 4096;
        for (const k of this.acl.keys()) {
          if (n-- <= 0) break;
          this.acl.delete(k);
        }
      }
    }
  }

  /** Advertising reports (legacy and extended, as src/adverts reads them): addresses, and addresses in the AD structures. */
  private adverts(data: Uint8Array, segs: Segments): void {
    const ev = parseAdvertisingReports(data);
    if (!ev) return;
    for (const r of ev.reports) {
      this.address(data, segs, r.addressOffset, `${r.kind} advertising report address`, false);
      // Extended reports: Direct_Address 14 bytes after Address (Core spec Vol 4 Part E 7.7.65.13).
      if (r.kind === 'extended') this.address(data, segs, r.addressOffset + 14, 'extended advertising report direct address', false);
      const ad = parseAdvertisingData(r.data);
      for (const st of ad.structures) {
        // 0x1b LE Bluetooth Device Address (Core Supplement Part A 1.16); names are swept for serial numbers.
        if (st.type === 0x1b && st.data.length >= 6) this.address(data, segs, r.dataOffset + st.offset + 2, 'advertised LE Bluetooth Device Address', false);
      }
      if (this.mode === 'patch') for (const m of ad.manufacturer) if (m.companyId === VICTRON_COMPANY_ID) this.readout(data, segs, r.address, r.dataOffset + m.offset, m.data);
    }
  }

  /** Advertisement keys (register 0xEC65) the devices sent, by device address: originals. */
  private readonly advertKeys = new Map<string, Uint8Array[]>();

  /**
   * An Instant Readout advert encrypted with a key the capture also holds (register 0xEC65): the
   * key is replaced, so the record is re-encrypted with the stand-in key (AES-CTR: same length, same
   * IV) and its key check byte set to the stand-in's first byte. The readout still decrypts, with
   * the stand-in key, to the same values.
   */
  private readout(data: Uint8Array, segs: Segments, address: string, at: number, md: Uint8Array): void {
    const f = parseVictronManufacturerData(md);
    if (!f?.encrypted || f.keyCheck === undefined || f.iv === undefined || f.encrypted.length === 0) return;
    const keys = this.advertKeys.get(address);
    const key = keys && [...keys].reverse().find((k) => k[0] === f.keyCheck);
    if (!key) return;
    const standIn = this.standIns.bytes(key, 'register 0xEC65');
    const plain = decryptReadout(key, f.iv, f.encrypted);
    const out = new Uint8Array(1 + f.encrypted.length);
    out[0] = standIn[0]!;
    out.set(decryptReadout(standIn, f.iv, plain), 1);
    this.write(segs, at + 7, out);
  }

  private site(data: Uint8Array, segs: Segments, s: ByteSite): void {
    if (s.kind === 'address') this.address(data, segs, s.offset, s.what, !/advertis|inquiry/.test(s.what));
    else if (s.kind === 'secret') this.secret(data, segs, s.offset, s.length, s.what);
    // Names of the phone/laptop and of classic peers (often a person's name) become text stand-ins;
    // names in advertising and GATT keep their words (profiles are chosen by them), serial numbers in
    // them are found by the sweeps.
    else this.text(data, segs, s.offset, s.length, s.what, false);
  }

  /** One ATT PDU: where its bytes lie; sweeps of PDUs that span ACL fragments. */
  att(pdu: AttPdu): void {
    if (this.mode === 'learn') {
      if (pdu.frames.length > 1) this.sweep(pdu.raw, []);
      this.longRead(pdu, []);
      return;
    }
    const segs: Segments = [];
    let need = pdu.raw.length + 4; // with the L2CAP basic header
    for (const f of pdu.frames) {
      const a = this.acl.get(f);
      this.acl.delete(f);
      if (!a) return this.unmapped(pdu.frame, 'an ACL fragment of its ATT PDU');
      const len = Math.min(a[1], need);
      segs.push(a[0], len);
      need -= len;
    }
    const raw = subSegments(segs, 4, pdu.raw.length);
    if (segmentsLength(raw) < pdu.raw.length) return this.unmapped(pdu.frame, 'its ATT PDU');
    if (pdu.frames.length > 1) this.sweep(pdu.raw, raw);
    const v = pdu.value;
    if (v) {
      const start = v.buffer === pdu.raw.buffer ? v.byteOffset - pdu.raw.byteOffset : pdu.raw.length - v.length;
      const vsegs = subSegments(raw, start, v.length);
      // One fragment (the usual case): the file offset of the value is enough.
      this.values.set(pdu.frame, vsegs.length === 2 ? vsegs[0]! : vsegs);
      this.longRead(pdu, vsegs);
    }
  }

  /** Read Response + Read Blob Responses of one attribute (a GAP name longer than the MTU allows), by connection and handle. */
  private readonly longReads = new Map<string, { bytes: Uint8Array; segs: Segments }>();

  /** A long attribute value read in pieces is swept whole: a serial number may straddle two reads. */
  private longRead(pdu: AttPdu, vsegs: Segments): void {
    const v = pdu.value;
    if (!v || pdu.handle === undefined || (pdu.opcode !== 0x0b && pdu.opcode !== 0x0d)) return;
    const key = `${pdu.connection}/${pdu.handle}`;
    if (pdu.opcode === 0x0b) {
      this.longReads.delete(key);
      this.longReads.set(key, { bytes: v.slice(), segs: vsegs });
      if (this.longReads.size > 64) this.longReads.delete(this.longReads.keys().next().value!);
      return;
    }
    const prev = this.longReads.get(key);
    if (!prev || prev.bytes.length + v.length > 512) return; // 512: the longest attribute value (Core spec Vol 3 Part F 3.2.9)
    const bytes = new Uint8Array(prev.bytes.length + v.length);
    bytes.set(prev.bytes);
    bytes.set(v, prev.bytes.length);
    const whole = { bytes, segs: [...prev.segs, ...vsegs] };
    this.longReads.set(key, whole);
    this.sweep(whole.bytes, whole.segs);
  }

  private unmapped(frame: number, what: string): void {
    if (this.mode !== 'patch') return;
    if (this.unmappedWarned++ < 5) this.warnings.push({ frame, message: `frame ${frame}: could not place ${what} in the file; values in it are not replaced` });
  }

  /** One Victron record: sensitive register values (0x08 value, 0x06 set) and sweeps of messages that span ATT values. */
  victron(r: VictronRecord): void {
    const sensitive = r.kind === 'message' && (r.type === 0x08 || r.type === 0x06) && r.register !== undefined && SENSITIVE_BY_ID.has(r.register) && r.bytes !== this.lastMessageBytes;
    const sweep = r.ranges.length > 1 && r.bytes !== this.lastSweptBytes && (this.mode === 'learn' || this.patterns().length > 0);
    if (!sensitive && !sweep) return;
    // A message gives one record per register: it is handled once.
    if (sensitive) this.lastMessageBytes = r.bytes;
    if (sweep) this.lastSweptBytes = r.bytes;
    let segs: Segments = [];
    if (this.mode === 'patch') {
      for (const range of r.ranges) {
        const v = this.values.get(range.frame);
        if (v === undefined) return this.unmapped(range.frame, 'the ATT value of a Victron message');
        if (typeof v === 'number') segs.push(v + range.start, range.end - range.start);
        else segs.push(...subSegments(v, range.start, range.end - range.start));
      }
      if (segmentsLength(segs) < r.bytes.length) return this.unmapped(r.frame, 'a Victron message');
    } else segs = [];
    if (sensitive) {
      const m = parseMessage(r.bytes, 0);
      if (m.ok) {
        const p = m.message.params;
        if (r.type === 0x08 && m.message.register !== undefined && p[2]?.major === 'bytes') this.register(m.message.register, r.bytes, segs, p[2], r.direction === 'device-to-host' ? r.device : undefined);
        if (r.type === 0x06 && p[1]?.major === 'array') {
          const c = p[1].children;
          for (let i = 0; i + 1 < c.length; i += 2) {
            const reg = c[i]!;
            if (reg.major === 'uint' && typeof reg.value === 'number' && c[i + 1]!.major === 'bytes') this.register(reg.value, r.bytes, segs, c[i + 1]!);
          }
        }
      }
    }
    if (sweep) this.sweep(r.bytes, segs);
  }

  /** The content of a CBOR byte string: one span if definite, one per chunk if indefinite. */
  private spans(buf: Uint8Array, item: CborItem): [number, number][] {
    if (!item.indefinite) return [[item.start + item.headLength, item.end]];
    const out: [number, number][] = [];
    let p = item.start + 1;
    while (p < item.end && buf[p] !== 0xff) {
      const r = readItem(buf, p);
      if (!r.ok) break;
      out.push([r.item.start + r.item.headLength, r.item.end]);
      p = r.end;
    }
    return out;
  }

  private register(register: number, bytes: Uint8Array, segs: Segments, item: CborItem, device?: string): void {
    const kind = SENSITIVE_BY_ID.get(register);
    if (!kind) return;
    const spans = this.spans(bytes, item);
    // The value as one sequence (an indefinite string's chunks, concatenated) with its file segments.
    const value = new Uint8Array(spans.reduce((n, [a, b]) => n + b - a, 0));
    const vsegs: Segments = [];
    let k = 0;
    for (const [a, b] of spans) {
      value.set(bytes.subarray(a, b), k);
      k += b - a;
      vsegs.push(...subSegments(segs, a, b - a));
    }
    this.value(kind, register, value, vsegs);
    if (register === 0xec65 && value.length === 16 && device !== undefined && this.mode === 'learn') {
      const list = this.advertKeys.get(device) ?? [];
      if (!list.some((k) => Buffer.from(k).equals(value))) list.push(value.slice());
      this.advertKeys.set(device, list);
    }
  }

  private value(kind: RegisterSecret, register: number, value: Uint8Array, segs: Segments): void {
    const where = `register 0x${register.toString(16).toUpperCase().padStart(4, '0')}`;
    if (kind === 'serial') this.text(value, segs, 0, value.length, where, true);
    else if (kind === 'text') this.text(value, segs, 0, value.length, where, false);
    else if (kind === 'bytes') this.secret(value, segs, 0, value.length, where);
    else if (kind === 'address') {
      // ve_regs.h does not say the byte order: a value that is a known address reversed is mapped reversed.
      if (value.length !== 6 || isFill(value)) return this.secret(value, segs, 0, value.length, where);
      const hex = toHex(value);
      if (this.mode === 'learn') this.registerAddresses.add(hex);
      else if (this.reversedAddresses.has(hex)) this.write(segs, 0, Uint8Array.from(this.standIns.address(Uint8Array.from(value).reverse(), where)).reverse());
      else this.address(value, segs, 0, where, true);
    } else {
      // CBOR map of external devices: every byte string leaf is an address (6 bytes) or a key.
      const walk = (buf: Uint8Array, it: CborItem, depth: number): void => {
        if (depth > 8) return;
        if (it.major === 'bytes' && !it.indefinite) {
          const a = it.start + it.headLength;
          if (kind === 'cbor-address' && it.end - a === 6) this.address(buf, segs, a, where, true);
          else if (kind === 'cbor-bytes') this.secret(buf, segs, a, it.end - a, where);
        } else if (it.major === 'array' || it.major === 'map') for (const c of it.children) walk(buf, c, depth + 1);
        else if (it.major === 'tag') walk(buf, it.value, depth + 1);
      };
      const r = readItem(value, 0);
      if (r.ok) walk(value, r.item, 0);
    }
  }

  /** After a batch: forget ATT values that no pending Victron bytes can name any more. */
  release(oldestPendingFrame: number | undefined, lastFrame: number): void {
    const bound = oldestPendingFrame ?? lastFrame + 1;
    for (const k of this.values.keys()) {
      if (k >= bound) break;
      this.values.delete(k);
    }
  }
}
