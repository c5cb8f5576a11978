/**
 * Instant Readout: a Victron advert, its key (given, or read by the app from register 0xEC65 in the
 * same capture), decryption and the record decoded by its layout - or the reason it could not be.
 */
import { toHex } from '../util/cursor.js';
import { productName } from '../profiles/products.js';
import type { Advert } from './index.js';
import { decryptReadout } from './crypto.js';
import { decodeRecord, recordTable, type ReadoutField, type RecordTable } from './records.js';

export type NotDecodedReason = 'too short' | 'not a product advertisement' | 'no key' | 'key does not match' | 'unknown record type';

/** VE_REG_BLE_ADVERTISEMENT_KEY in Victron's ve_regs.h (stringFixed[16]). */
export const ADVERTISEMENT_KEY_REGISTER = 0xec65;

export interface AdvertKey {
  key: Uint8Array;
  /** Where the key comes from: "--key", a keys file name, or "frame N" (read from the capture). */
  source: string;
}

export interface InstantReadout {
  /** The capture the advert is in, when a run reads several. */
  file?: string;
  frame: number;
  timeUs: number;
  device: string;
  addressType: string;
  rssi: number | null;
  /** The device's local name, from this advert or an earlier one (scan response) of the same address. */
  name?: string;
  prefix: string;
  productId?: number;
  productName?: string;
  recordType?: number;
  recordTypeName?: string;
  iv?: number;
  keyCheck?: number;
  /** Manufacturer data after the company id. */
  raw: Uint8Array;
  decoded: boolean;
  reason?: NotDecodedReason;
  /** Where the key came from (only when one was used). */
  keySource?: string;
  /** First byte of the key used (keys are never shown whole). */
  keyFirstByte?: number;
  plaintext?: Uint8Array;
  fields: ReadoutField[];
  /** Fields the record was too short to hold. */
  missing?: string[];
}

/** Address as a lookup key: lowercase with colons ("AABBCCDDEEFF" and "aa-bb-…" accepted). */
export function normalizeAddress(a: string): string | undefined {
  const hex = a.toLowerCase().replace(/[:\-\s]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** A 16-byte key from 32 hex digits (spaces, colons allowed). */
export function parseKey(hex: string): Uint8Array | undefined {
  const clean = hex.replace(/[\s:]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(clean)) return undefined;
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/**
 * Keys seen in the app's own traffic: a 16-byte value of register 0xEC65 sent by a device. Several per
 * device are kept (the key changes with the PIN); the advert's check byte picks one.
 */
export class CaptureKeys {
  private byDevice = new Map<string, { key: Uint8Array; frame: number }[]>();

  /** Feeds a decoded Victron message; returns true when it carried a key. */
  add(r: { kind: string; type?: number; register?: number; raw?: Uint8Array; device?: string; frame: number; direction?: string }): boolean {
    if (r.kind !== 'message' || r.type !== 0x08 || r.register !== ADVERTISEMENT_KEY_REGISTER || !r.device || !r.raw || r.raw.length !== 16) return false;
    if (r.direction !== undefined && r.direction !== 'device-to-host') return false;
    const d = normalizeAddress(r.device);
    if (!d) return false;
    const list = this.byDevice.get(d) ?? [];
    if (!list.some((k) => toHex(k.key) === toHex(r.raw!))) list.push({ key: r.raw.slice(), frame: r.frame });
    this.byDevice.set(d, list);
    return true;
  }

  /** The latest key of `device` whose first byte is `check`. */
  find(device: string, check: number): AdvertKey | undefined {
    const list = this.byDevice.get(normalizeAddress(device) ?? device);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.key[0] === check) return { key: list[i]!.key, source: `frame ${list[i]!.frame}` };
    return undefined;
  }

  /** Every key seen: device, frame, first byte only. */
  summary(): { device: string; frame: number; firstByte: number }[] {
    return [...this.byDevice].flatMap(([device, l]) => l.map((k) => ({ device, frame: k.frame, firstByte: k.key[0]! })));
  }

  get size(): number {
    return this.byDevice.size;
  }
}

export interface ReadoutOptions {
  /** Keys given by the user (--key, --keys), by normalized address. */
  keys?: Map<string, AdvertKey>;
  captureKeys?: CaptureKeys;
  table?: RecordTable;
}

/**
 * Turns adverts into Instant Readout records (Victron adverts only), remembering local names per
 * address (a scan response carries the name, the advert the data).
 */
export class ReadoutDecoder {
  private names = new Map<string, string>();
  private readonly table: RecordTable;

  constructor(private readonly opts: ReadoutOptions = {}) {
    this.table = opts.table ?? recordTable();
  }

  push(a: Advert): InstantReadout | undefined {
    if (a.localName) this.names.set(a.address, a.localName);
    const v = a.victron;
    if (!v) return undefined;
    const md = a.manufacturer.find((m) => m.companyId === 0x02e1)!;
    const r: InstantReadout = {
      frame: a.frame,
      timeUs: a.timeUs,
      device: a.address,
      addressType: a.addressType,
      rssi: a.rssi,
      prefix: v.prefix,
      raw: md.data,
      decoded: false,
      fields: [],
    };
    const name = a.localName ?? this.names.get(a.address);
    if (name !== undefined) r.name = name;
    if (v.productId !== undefined) {
      r.productId = v.productId;
      const pn = productName(v.productId);
      if (pn) r.productName = pn;
    }
    if (v.recordType !== undefined) {
      r.recordType = v.recordType;
      const def = this.table.records.get(v.recordType);
      if (def) r.recordTypeName = def.name;
    }
    if (v.iv !== undefined) r.iv = v.iv;
    if (v.keyCheck !== undefined) r.keyCheck = v.keyCheck;
    if (v.problem) {
      r.reason = v.problem;
      return r;
    }
    if (v.encrypted!.length === 0) {
      r.reason = 'too short';
      return r;
    }
    const def = this.table.records.get(v.recordType!);
    const key = this.keyFor(a.address, v.keyCheck!);
    if (!key.use) {
      r.reason = !def ? 'unknown record type' : key.mismatch ? 'key does not match' : 'no key';
      if (key.mismatch) {
        r.keySource = key.mismatch.source;
        r.keyFirstByte = key.mismatch.key[0];
      }
      return r;
    }
    r.keySource = key.use.source;
    r.keyFirstByte = key.use.key[0];
    r.plaintext = decryptReadout(key.use.key, v.iv!, v.encrypted!);
    if (!def) {
      r.reason = 'unknown record type';
      return r;
    }
    const d = decodeRecord(def, r.plaintext, this.table);
    r.decoded = true;
    r.fields = d.fields;
    if (d.missing.length) r.missing = d.missing;
    return r;
  }

  /** A key whose first byte matches the check byte: the user's first, then one read from the capture. */
  private keyFor(address: string, check: number): { use?: AdvertKey; mismatch?: AdvertKey } {
    const given = this.opts.keys?.get(normalizeAddress(address) ?? address);
    if (given && given.key[0] === check) return { use: given };
    const found = this.opts.captureKeys?.find(address, check);
    if (found) return { use: found };
    return { mismatch: given };
  }
}
