/**
 * HCI LE advertising report events (Core spec Vol 4, Part E, 7.7.65.2 and 7.7.65.13):
 * LE Advertising Report (0x3e/0x02) and LE Extended Advertising Report (0x3e/0x0d).
 * Reports are read one after the other, each with its own fields (as Wireshark's packet-bthci_evt.c
 * does and controllers send them), with the offset of each field so that a rewriter can patch it.
 */
import { formatAddress } from '../bluetooth/uuid.js';

export type AdvertisingAddressType = 'public' | 'random' | 'public-identity' | 'random-identity' | 'anonymous' | 'unknown';

/** Peer address types of the reports (0xff only in extended reports: anonymous advertising). */
const ADDRESS_TYPES: Record<number, AdvertisingAddressType> = { 0: 'public', 1: 'random', 2: 'public-identity', 3: 'random-identity', 0xff: 'anonymous' };

/** Legacy PDU types (LE Advertising Report Event_Type). */
export const LEGACY_EVENT_TYPES: Record<number, string> = { 0: 'ADV_IND', 1: 'ADV_DIRECT_IND', 2: 'ADV_SCAN_IND', 3: 'ADV_NONCONN_IND', 4: 'SCAN_RSP' };

/** One advertising report as the controller gave it (data not yet split into AD structures). */
export interface AdvertisingReport {
  kind: 'legacy' | 'extended';
  /** Event_Type: legacy PDU type (0-4), or the extended bit field. */
  eventType: number;
  /** Legacy PDU name (`ADV_IND`, `SCAN_RSP`…); for extended reports the names of the set bits. */
  eventTypeName: string;
  /** Peer address, most significant byte first ("aa:bb:cc:dd:ee:ff"). */
  address: string;
  addressType: AdvertisingAddressType;
  /** Address_Type as sent. */
  addressTypeCode: number;
  /** dBm; null when the controller says "not available" (127). */
  rssi: number | null;
  /** Extended reports only: TX power in dBm (null: not available), advertising set id, PHYs. */
  txPower?: number | null;
  sid?: number;
  primaryPhy?: number;
  secondaryPhy?: number;
  /** Extended reports only: 'complete', 'incomplete' (more in a later report), 'truncated'. */
  dataStatus?: 'complete' | 'incomplete' | 'truncated';
  /** The advertising data (AD structures), as received. */
  data: Uint8Array;
  /** Offsets inside the HCI event (event code = 0): the report's first byte, its address (6 bytes LE), its data. */
  offset: number;
  addressOffset: number;
  dataOffset: number;
}

export interface AdvertisingReportEvent {
  subevent: 0x02 | 0x0d;
  reports: AdvertisingReport[];
  /** Set when the event is cut short or inconsistent: the reports before the damage are kept. */
  problem?: string;
}

const EXTENDED_BITS = ['connectable', 'scannable', 'directed', 'scan response', 'legacy'];
const DATA_STATUS = ['complete', 'incomplete', 'truncated'] as const;

/** Names of the set bits of an extended report's Event_Type ("connectable, scannable, legacy"). */
export function extendedEventTypeName(t: number): string {
  const parts = EXTENDED_BITS.filter((_, i) => (t >> i) & 1);
  const status = (t >> 5) & 3;
  if (status) parts.push(`data ${DATA_STATUS[status] ?? 'reserved'}`);
  return parts.join(', ') || 'non-connectable';
}

const i8 = (b: number) => (b > 127 ? b - 256 : b);

/**
 * `data` starts at the HCI event code. Returns undefined for any other event; otherwise the reports,
 * and a `problem` naming the byte offset where the event stops making sense.
 */
export function parseAdvertisingReports(data: Uint8Array): AdvertisingReportEvent | undefined {
  if (data.length < 3 || data[0] !== 0x3e) return undefined;
  const sub = data[2]!;
  if (sub !== 0x02 && sub !== 0x0d) return undefined;
  const end = Math.min(data.length, 2 + data[1]!);
  const ev: AdvertisingReportEvent = { subevent: sub, reports: [] };
  const name = sub === 0x02 ? 'LE Advertising Report' : 'LE Extended Advertising Report';
  if (end < 4) {
    ev.problem = `${name}: no Num_Reports byte (event cut at byte offset ${end})`;
    return ev;
  }
  const count = data[3]!;
  let p = 4;
  for (let i = 0; i < count; i++) {
    const start = p;
    const fixed = sub === 0x02 ? 9 : 24;
    if (p + fixed > end) {
      ev.problem = `${name}: report ${i + 1} of ${count} cut short at byte offset ${p} (${end - p} of ${fixed} header bytes)`;
      return ev;
    }
    let r: AdvertisingReport;
    if (sub === 0x02) {
      const len = data[p + 8]!;
      const dataOffset = p + 9;
      if (dataOffset + len + 1 > end) {
        ev.problem = `${name}: report ${i + 1} of ${count} needs ${len} data bytes and RSSI at byte offset ${dataOffset}, only ${end - dataOffset} left`;
        return ev;
      }
      const rssi = data[dataOffset + len]!;
      r = {
        kind: 'legacy',
        eventType: data[p]!,
        eventTypeName: LEGACY_EVENT_TYPES[data[p]!] ?? `reserved (${data[p]})`,
        addressTypeCode: data[p + 1]!,
        addressType: ADDRESS_TYPES[data[p + 1]!] ?? 'unknown',
        address: formatAddress(data.subarray(p + 2, p + 8)),
        rssi: rssi === 127 ? null : i8(rssi),
        data: data.subarray(dataOffset, dataOffset + len),
        offset: start,
        addressOffset: p + 2,
        dataOffset,
      };
      p = dataOffset + len + 1;
    } else {
      const type = data[p]! | (data[p + 1]! << 8);
      const len = data[p + 23]!;
      const dataOffset = p + 24;
      if (dataOffset + len > end) {
        ev.problem = `${name}: report ${i + 1} of ${count} needs ${len} data bytes at byte offset ${dataOffset}, only ${end - dataOffset} left`;
        return ev;
      }
      const tx = data[p + 12]!;
      const rssi = data[p + 13]!;
      r = {
        kind: 'extended',
        eventType: type,
        eventTypeName: extendedEventTypeName(type),
        addressTypeCode: data[p + 2]!,
        addressType: ADDRESS_TYPES[data[p + 2]!] ?? 'unknown',
        address: formatAddress(data.subarray(p + 3, p + 9)),
        primaryPhy: data[p + 9]!,
        secondaryPhy: data[p + 10]!,
        sid: data[p + 11]!,
        txPower: tx === 127 ? null : i8(tx),
        rssi: rssi === 127 ? null : i8(rssi),
        dataStatus: DATA_STATUS[(type >> 5) & 3] ?? 'truncated',
        data: data.subarray(dataOffset, dataOffset + len),
        offset: start,
        addressOffset: p + 3,
        dataOffset,
      };
      p = dataOffset + len;
    }
    ev.reports.push(r);
  }
  return ev;
}
