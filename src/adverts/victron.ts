/**
 * The clear part of Victron's Instant Readout manufacturer data (company 0x02E1), as laid out in
 * Victron's "Extra manufacturer data" (2022-12-14) and read by victron-ble (keshavdv/victron-ble,
 * victron_ble/devices/base.py) and esphome-victron_ble:
 *
 *   0  u8     0x10: manufacturer data record "product advertisement"
 *   1  u8     second prefix byte (0x02 on Instant Readout adverts; 0x00 seen on devices without it)
 *   2  u16le  product id (model id, e.g. 0xA389 SmartShunt 500A/50mV)
 *   4  u8     record type (0x01 solar charger, 0x02 battery monitor, …)
 *   5  u16le  IV (data counter): the low 16 bits of the AES-CTR counter
 *   7  u8     key check: the first byte of the advertisement key
 *   8  …      the record, AES-128-CTR encrypted
 */

export const VICTRON_COMPANY_ID = 0x02e1;
/** First byte of an Instant Readout record ("product advertisement"). */
export const PRODUCT_ADVERTISEMENT = 0x10;

export interface VictronAdvertFields {
  /** Bytes 0-1 as hex ("1002"). */
  prefix: string;
  /** Absent when the record is not a product advertisement or stops before it. */
  productId?: number;
  /** Absent when the data stops before it (e.g. the 4-byte `10 00 pid pid` form of devices without Instant Readout). */
  recordType?: number;
  iv?: number;
  keyCheck?: number;
  /** The encrypted record (after the key check byte). */
  encrypted?: Uint8Array;
  /** 'too short' (fewer than 8 bytes, no record), or 'not a product advertisement' (first byte not 0x10). */
  problem?: 'too short' | 'not a product advertisement';
}

/** `data`: the manufacturer data after the company id. Undefined when it has not even the two prefix bytes. */
export function parseVictronManufacturerData(data: Uint8Array): VictronAdvertFields | undefined {
  if (data.length < 2) return undefined;
  const prefix = ((data[0]! << 8) | data[1]!).toString(16).padStart(4, '0');
  if (data[0] !== PRODUCT_ADVERTISEMENT) return { prefix, problem: 'not a product advertisement' };
  if (data.length < 4) return { prefix, problem: 'too short' };
  const f: VictronAdvertFields = { prefix, productId: data[2]! | (data[3]! << 8) };
  if (data.length < 8) {
    if (data.length >= 5) f.recordType = data[4]!;
    if (data.length >= 7) f.iv = data[5]! | (data[6]! << 8);
    f.problem = 'too short';
    return f;
  }
  f.recordType = data[4]!;
  f.iv = data[5]! | (data[6]! << 8);
  f.keyCheck = data[7]!;
  f.encrypted = data.subarray(8);
  return f;
}
