/**
 * Registers whose values identify a device or unlock it, from Victron's ve_regs.h
 * (../shared/data/registers.json; a test checks ids and macros against it).
 *
 * - serial: a serial number string (the stand-in keeps the factory code, e.g. "HQ").
 * - text: a PIN, password or passphrase string (digits stay digits, letters letters).
 * - bytes: a key (every byte replaced, unless the key is unset: all 0x00 or all 0xff).
 * - address: a device address (mapped like the addresses of the HCI layer).
 * - cbor-address / cbor-bytes: a CBOR map per external device whose byte-string values are
 *   addresses / keys.
 */
export type RegisterSecret = 'serial' | 'text' | 'bytes' | 'address' | 'cbor-address' | 'cbor-bytes';

export const SENSITIVE_REGISTERS: readonly { id: number; macro: string; kind: RegisterSecret }[] = [
  { id: 0x010a, macro: 'VE_REG_SERIAL_NUMBER', kind: 'serial' },
  { id: 0xeec7, macro: 'VE_REG_BMV_CAL2_SERIAL', kind: 'serial' },
  { id: 0xee78, macro: 'VE_REG_MULTIC_TST_DCAC_SERIAL_NUMBER', kind: 'serial' },
  { id: 0xee79, macro: 'VE_REG_MULTIC_TST_MPPT_SERIAL_NUMBER', kind: 'serial' },
  { id: 0xec65, macro: 'VE_REG_BLE_ADVERTISEMENT_KEY', kind: 'bytes' },
  { id: 0xec13, macro: 'VE_REG_BLE_NETWORK_KEY', kind: 'bytes' },
  { id: 0x0083, macro: 'VE_REG_PRE_SHARED_KEY', kind: 'bytes' },
  { id: 0xec10, macro: 'VE_REG_PINCODE', kind: 'text' },
  { id: 0xec77, macro: 'VE_REG_CELLULAR_SIM_PIN', kind: 'text' },
  { id: 0xd03f, macro: 'VE_REG_MULTIC_ACIN_GRID_CODE_PASSWORD', kind: 'text' },
  { id: 0xe3de, macro: 'VE_REG_VENUS_NETWORK_AP_PASSPHRASE', kind: 'text' },
  { id: 0xec66, macro: 'VE_REG_BLE_MAC_ADDRESS', kind: 'address' },
  { id: 0xec96, macro: 'VE_REG_EXTERNALDEVICE_BLE_MAC_ADDRESS', kind: 'cbor-address' },
  { id: 0xec97, macro: 'VE_REG_EXTERNALDEVICE_BLE_ADVERTISEMENT_KEY', kind: 'cbor-bytes' },
];

export const SENSITIVE_BY_ID: ReadonlyMap<number, RegisterSecret> = new Map(SENSITIVE_REGISTERS.map((r) => [r.id, r.kind]));

/**
 * Victron serial numbers as the devices print them ("HQ" + year + week + 5 characters, e.g. in
 * the SmartShunt GAP name "SmartShunt HQ20234NXYN"): found in names and free text even when
 * register 0x010A is not in the capture.
 */
export const SERIAL_PATTERN = /(?<![0-9A-Za-z])HQ\d{4}[0-9A-Z]{5}(?![0-9A-Za-z])/g;
