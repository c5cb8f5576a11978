/**
 * Advertising data: a list of AD structures, each `length, type, data` (Core spec Vol 3, Part C, 11;
 * types in the Assigned Numbers "Common Data Types").
 */

export interface AdStructure {
  type: number;
  /** The structure's data (after the type byte). */
  data: Uint8Array;
  /** Offset of the length byte inside the advertising data. */
  offset: number;
}

export interface ManufacturerData {
  /** Bluetooth SIG company identifier (little-endian in the data). */
  companyId: number;
  /** The bytes after the company identifier. */
  data: Uint8Array;
  /** Offset of the first byte of `data` inside the advertising data. */
  offset: number;
}

export interface AdvertisingData {
  structures: AdStructure[];
  /** Complete (0x09) or, when absent, shortened (0x08) local name. */
  localName?: string;
  manufacturer: ManufacturerData[];
  /** Why the data stopped parsing (a length running past the end), with the offset. */
  problem?: string;
}

export const AD_TYPE_NAMES: Record<number, string> = {
  0x01: 'Flags',
  0x02: 'Incomplete List of 16-bit Service UUIDs',
  0x03: 'Complete List of 16-bit Service UUIDs',
  0x06: 'Incomplete List of 128-bit Service UUIDs',
  0x07: 'Complete List of 128-bit Service UUIDs',
  0x08: 'Shortened Local Name',
  0x09: 'Complete Local Name',
  0x0a: 'Tx Power Level',
  0x16: 'Service Data - 16-bit UUID',
  0x19: 'Appearance',
  0xff: 'Manufacturer Specific Data',
};

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function parseAdvertisingData(data: Uint8Array): AdvertisingData {
  const out: AdvertisingData = { structures: [], manufacturer: [] };
  let shortName: string | undefined;
  let p = 0;
  while (p < data.length) {
    const len = data[p]!;
    // A zero length ends the significant part (the rest is padding, Core spec Vol 3, Part C, 11).
    if (len === 0) break;
    if (p + 1 + len > data.length) {
      out.problem = `AD structure at offset ${p} has length ${len}, only ${data.length - p - 1} bytes left`;
      break;
    }
    const type = data[p + 1]!;
    const body = data.subarray(p + 2, p + 1 + len);
    out.structures.push({ type, data: body, offset: p });
    if (type === 0x09) out.localName = utf8.decode(body);
    else if (type === 0x08) shortName = utf8.decode(body);
    else if (type === 0xff && body.length >= 2) out.manufacturer.push({ companyId: body[0]! | (body[1]! << 8), data: body.subarray(2), offset: p + 4 });
    p += 1 + len;
  }
  if (out.localName === undefined && shortName !== undefined) out.localName = shortName;
  return out;
}
