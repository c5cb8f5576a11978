/**
 * Device profiles: the single description of a Victron device's GATT layout and registers,
 * read by the TypeScript decoder and compiled into the Wireshark Lua dissector.
 * The JSON Schema in schema.json describes the JSON form of `Profile`.
 */

/** Scalar types of Victron's velib register definitions (registers.json). */
export type ScalarType = 'un8' | 'sn8' | 'un16' | 'sn16' | 'un24' | 'sn24' | 'un32' | 'sn32' | 'un64' | 'sn64' | 'float';

/** One field of a register value (most registers have exactly one). */
export interface RegisterField {
  /** Field name, e.g. "Battery voltage" or, in a record, "Yield". */
  name: string;
  /** Value encoding: a scalar, a bit field of `width` bits (packed LSB first), a string (NUL padded), or raw bytes. */
  type: ScalarType | 'bits' | 'string' | 'bytes';
  /** Byte size for 'string'/'bytes' fields; omitted = rest of the value. */
  size?: number;
  /** Bit count for 'bits' fields. */
  width?: number;
  /** Multiply the raw integer by this to get the value in `unit` (e.g. 0.01 for 0.01 V). */
  scale?: number;
  unit?: string;
  /** Enum labels by raw value (decimal string keys). */
  enum?: Record<string, string>;
  /** Bit field: names of bits (decimal bit number keys) for flag registers. */
  bits?: Record<string, string>;
  /** Raw values with a special meaning, e.g. {"32767": "not available"}. */
  special?: Record<string, string>;
  /**
   * How to show the value (the value itself stays a number or the raw string): `productId` as 0xA389 with the
   * product's name, `register` as a register number 0xED8D, `hex` for strings that are bytes (MAC, keys, ids).
   */
  format?: 'productId' | 'hex' | 'register';
}

export interface RegisterDef {
  /** Register number (VREG), 0..0xffff. */
  id: number;
  /** Human name, e.g. "Battery voltage". */
  name: string;
  /** velib symbol, e.g. VE_REG_DC_CHANNEL1_VOLTAGE. */
  symbol?: string;
  /** Value layout. One field = a scalar register; several = a fixed record (e.g. MPPT day history). */
  fields: RegisterField[];
  /** Where the definition comes from (registers.json symbol, seed project file, protocol.md...). */
  source: string;
  /** Free text. */
  description?: string;
}

export type CharacteristicRole = 'control' | 'lastData' | 'data';

export interface Profile {
  id: string;
  displayName: string;
  /** Profile ids this profile extends (registers merged, later ones override). */
  extends?: string[];
  /** How to recognise the device. */
  match?: {
    /** Regular expressions (JavaScript syntax) on the advertised or GAP device name. */
    names?: string[];
    /** Product ids (register 0x0100 values, e.g. 0xA389) of this family. */
    productIds?: number[];
    /** Default handles of the Control/LastData/Data characteristics of this family. */
    handles?: { control: number; lastData: number; data: number }[];
  };
  /** Characteristic UUIDs by role; inherited from the common profile when omitted. */
  characteristics?: Partial<Record<CharacteristicRole, string[]>>;
  registers?: RegisterDef[];
  /** The app's init sequence as observed: writes in order (hex of the ATT value). */
  initSequence?: { role: CharacteristicRole; hex: string; note?: string }[];
  source?: string;
}

/** A profile with `extends` resolved: all registers, characteristics and handles in one place. */
export interface ResolvedProfile {
  id: string;
  displayName: string;
  profile: Profile;
  /** File the profile came from (shipped or user). */
  file: string;
  characteristics: Record<CharacteristicRole, string[]>;
  defaultHandles: { control: number; lastData: number; data: number }[];
  register(id: number): RegisterDef | undefined;
  registers(): RegisterDef[];
}

/** A register value decoded by its definition. */
export interface DecodedValue {
  /** Number for scalars (already scaled), string for strings/enums... see decodeRegisterValue. */
  value: number | string | Record<string, unknown> | null;
  unit?: string;
  /** Set when the bytes do not fit the definition (wrong size): value is then null and raw shown. */
  problem?: string;
}
