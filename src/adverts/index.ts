/**
 * Advertisements: HCI LE advertising report events -> adverts with address, RSSI, AD structures,
 * local name, manufacturer data and, for Victron (company 0x02E1), the clear Instant Readout fields.
 * Pure decoding of HCI records; nothing here reads files or decrypts.
 */
import { HciPacketType, type HciRecord } from '../capture/types.js';
import { parseAdvertisingData, type AdStructure, type ManufacturerData } from './ad.js';
import { parseAdvertisingReports, type AdvertisingAddressType, type AdvertisingReport } from './reports.js';
import { parseVictronManufacturerData, VICTRON_COMPANY_ID, type VictronAdvertFields } from './victron.js';

export { parseAdvertisingReports, extendedEventTypeName, LEGACY_EVENT_TYPES, type AdvertisingReport, type AdvertisingReportEvent, type AdvertisingAddressType } from './reports.js';
export { parseAdvertisingData, AD_TYPE_NAMES, type AdStructure, type ManufacturerData, type AdvertisingData } from './ad.js';
export { parseVictronManufacturerData, VICTRON_COMPANY_ID, PRODUCT_ADVERTISEMENT, type VictronAdvertFields } from './victron.js';
export { decryptReadout } from './crypto.js';

/** One advertisement (one report, or an extended report chain put back together). */
export interface Advert {
  /** Frame of the (last) report; `frames` lists every frame when an extended chain spanned several. */
  frame: number;
  frames: number[];
  timeUs: number;
  adapter: number;
  kind: 'legacy' | 'extended';
  eventType: number;
  eventTypeName: string;
  address: string;
  addressType: AdvertisingAddressType;
  rssi: number | null;
  txPower?: number | null;
  sid?: number;
  dataStatus?: 'complete' | 'incomplete' | 'truncated';
  /** The advertising data bytes. */
  data: Uint8Array;
  structures: AdStructure[];
  localName?: string;
  manufacturer: ManufacturerData[];
  /** Clear Instant Readout fields of the first manufacturer data with company 0x02E1. */
  victron?: VictronAdvertFields;
  /** What could not be parsed (event cut short, AD length past the end), with byte offsets. */
  problem?: string;
}

/** Longest advertising data a chain of extended reports can carry (Core spec: 1650 bytes). */
const MAX_CHAIN = 1650;
const MAX_PENDING_CHAINS = 64;

interface Chain {
  frames: number[];
  parts: Uint8Array[];
  size: number;
}

/**
 * Turns HCI records into adverts. Extended reports whose data status says "incomplete, more to come"
 * are joined with the next reports of the same adapter, address and advertising set (bounded).
 */
export class AdvertParser {
  private chains = new Map<string, Chain>();
  /** Problems of events themselves (cut short), for the caller's warnings. */
  readonly problems: { frame: number; message: string }[] = [];

  push(rec: HciRecord): Advert[] {
    if (rec.packetType !== HciPacketType.Event || rec.data[0] !== 0x3e) return [];
    const ev = parseAdvertisingReports(rec.data);
    if (!ev) return [];
    if (ev.problem) this.problems.push({ frame: rec.frame, message: ev.problem });
    const out: Advert[] = [];
    for (const r of ev.reports) {
      if (r.kind === 'extended') {
        const key = `${rec.adapter}/${r.address}/${r.sid}`;
        const chain = this.chains.get(key);
        if (r.dataStatus === 'incomplete') {
          const c = chain ?? { frames: [], parts: [], size: 0 };
          c.frames.push(rec.frame);
          c.parts.push(r.data.slice());
          c.size += r.data.length;
          if (!chain) this.chains.set(key, c);
          if (c.size > MAX_CHAIN || this.chains.size > MAX_PENDING_CHAINS) {
            // Never-ending or abandoned chains: give what we have rather than grow.
            this.chains.delete(key);
            out.push(advert(rec, r, joined(c), c.frames, 'truncated', `extended advertising data chain over ${MAX_CHAIN} bytes`));
          }
          continue;
        }
        if (chain) {
          this.chains.delete(key);
          chain.parts.push(r.data);
          chain.frames.push(rec.frame);
          out.push(advert(rec, r, joined(chain), chain.frames, r.dataStatus));
          continue;
        }
      }
      out.push(advert(rec, r, r.data, [rec.frame], r.dataStatus));
    }
    return out;
  }

  /** Chains still waiting for their last report at the end of the capture. */
  pending(): number {
    return this.chains.size;
  }
}

function joined(c: Chain): Uint8Array {
  const out = new Uint8Array(c.parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of c.parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function advert(rec: HciRecord, r: AdvertisingReport, data: Uint8Array, frames: number[], status: Advert['dataStatus'], problem?: string): Advert {
  const ad = parseAdvertisingData(data);
  const a: Advert = {
    frame: rec.frame,
    frames,
    timeUs: rec.timeUs,
    adapter: rec.adapter,
    kind: r.kind,
    eventType: r.eventType,
    eventTypeName: r.eventTypeName,
    address: r.address,
    addressType: r.addressType,
    rssi: r.rssi,
    data,
    structures: ad.structures,
    manufacturer: ad.manufacturer,
  };
  if (r.kind === 'extended') {
    a.txPower = r.txPower;
    a.sid = r.sid;
    a.dataStatus = status;
  }
  if (ad.localName !== undefined) a.localName = ad.localName;
  const vic = ad.manufacturer.find((m) => m.companyId === VICTRON_COMPANY_ID);
  if (vic) {
    const f = parseVictronManufacturerData(vic.data);
    if (f) a.victron = f;
    else a.victron = { prefix: '', problem: 'too short' };
  }
  const problems = [problem, ad.problem].filter((p): p is string => !!p);
  if (problems.length) a.problem = problems.join('; ');
  return a;
}

/** Every advert of a list of records (synchronous helper for tests and small inputs). */
export function extractAdverts(records: Iterable<HciRecord>): Advert[] {
  const p = new AdvertParser();
  const out: Advert[] = [];
  for (const r of records) for (const a of p.push(r)) out.push(a);
  return out;
}
