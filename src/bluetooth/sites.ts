/**
 * Where identifying bytes lie inside one HCI packet: device addresses (BD_ADDR, 6 bytes,
 * little-endian as HCI carries them), keys and PINs, and names that may hold a serial number.
 * Layouts from the Core spec v5.4, Vol 4 Part E 7.1-7.8 (commands), 7.7 (events), Vol 3 Part H 3.6
 * (SMP key distribution); Linux monitor opcodes from BlueZ monitor/bt.h. Legacy and extended
 * advertising reports are read by src/adverts. Names (remote/local name) are listed as 'name'
 * sites: serial numbers inside them are found by the anonymizer's sweeps.
 * Pure: offsets index the `data` given (the HCI packet without its H4 type byte).
 */
import { HciPacketType } from '../capture/types.js';

export type SiteKind = 'address' | 'secret' | 'name';

export interface ByteSite {
  /** Offset in the packet. */
  offset: number;
  length: number;
  kind: SiteKind;
  /** What the bytes are, for the mapping file and tests (e.g. "LE Connection Complete peer address"). */
  what: string;
}

/** Command opcode -> [offset in the parameters, kind, length]. Addresses are 6 bytes. */
const COMMAND_SITES: Record<number, [number, SiteKind, number][]> = {
  0x0405: [[0, 'address', 6]], // Create Connection
  0x0408: [[0, 'address', 6]], // Create Connection Cancel
  0x0409: [[0, 'address', 6]], // Accept Connection Request
  0x040a: [[0, 'address', 6]], // Reject Connection Request
  0x040b: [[0, 'address', 6], [6, 'secret', 16]], // Link Key Request Reply (link key)
  0x040c: [[0, 'address', 6]],
  0x040d: [[0, 'address', 6], [7, 'secret', 16]], // PIN Code Request Reply (PIN)
  0x040e: [[0, 'address', 6]],
  0x0419: [[0, 'address', 6]], // Remote Name Request
  0x041a: [[0, 'address', 6]],
  0x0429: [[0, 'address', 6]], // Accept Synchronous Connection Request
  0x042a: [[0, 'address', 6]],
  0x042b: [[0, 'address', 6]], // IO Capability Request Reply
  0x042c: [[0, 'address', 6]], // User Confirmation Request Reply
  0x042d: [[0, 'address', 6]],
  0x042e: [[0, 'address', 6], [6, 'secret', 4]], // User Passkey Request Reply (passkey)
  0x042f: [[0, 'address', 6]],
  0x0430: [[0, 'address', 6], [6, 'secret', 32]], // Remote OOB Data Request Reply (C, R)
  0x0433: [[0, 'address', 6]],
  0x0434: [[0, 'address', 6]],
  0x043e: [[0, 'address', 6]], // Enhanced Accept Synchronous Connection Request
  0x0445: [[0, 'address', 6], [6, 'secret', 64]], // Remote OOB Extended Data Request Reply
  0x0c12: [[0, 'address', 6]], // Delete Stored Link Key
  0x0c0d: [[0, 'address', 6]], // Read Stored Link Key
  0x2005: [[0, 'address', 6]], // LE Set Random Address
  0x2006: [[7, 'address', 6]], // LE Set Advertising Parameters (peer address)
  0x200d: [[6, 'address', 6]], // LE Create Connection
  0x2011: [[1, 'address', 6]], // LE Add Device To Filter Accept List
  0x2012: [[1, 'address', 6]], // LE Remove Device From Filter Accept List
  0x2017: [[0, 'secret', 16]], // LE Encrypt (key)
  0x2019: [[2, 'secret', 8], [10, 'secret', 2], [12, 'secret', 16]], // LE Enable Encryption (Rand, EDIV, LTK)
  0x201a: [[2, 'secret', 16]], // LE Long Term Key Request Reply
  0x2027: [[1, 'address', 6], [7, 'secret', 16], [23, 'secret', 16]], // LE Add Device To Resolving List (IRKs)
  0x2028: [[1, 'address', 6]],
  0x202b: [[1, 'address', 6]], // LE Read Peer Resolvable Address
  0x202c: [[1, 'address', 6]], // LE Read Local Resolvable Address
  0x2035: [[1, 'address', 6]], // LE Set Advertising Set Random Address
  0x2036: [[12, 'address', 6]], // LE Set Extended Advertising Parameters (peer address)
  0x2043: [[3, 'address', 6]], // LE Extended Create Connection
  0x2044: [[3, 'address', 6]], // LE Periodic Advertising Create Sync
  0x2047: [[1, 'address', 6]], // LE Add Device To Periodic Advertiser List
  0x2048: [[1, 'address', 6]],
  0x204e: [[1, 'address', 6]], // LE Set Privacy Mode
};

/** Command Complete return parameters (after the status byte) that echo or return an address. */
const COMPLETE_ADDRESS_AT: Record<number, number> = {
  0x1009: 1, // Read BD_ADDR
  0x0408: 1, 0x040b: 1, 0x040c: 1, 0x040d: 1, 0x040e: 1, 0x041a: 1,
  0x042b: 1, 0x042c: 1, 0x042d: 1, 0x042e: 1, 0x042f: 1, 0x0430: 1, 0x0433: 1, 0x0434: 1, 0x0445: 1,
  0x202b: 1, 0x202c: 1,
};

/** Event code -> sites in the event parameters. */
const EVENT_SITES: Record<number, [number, SiteKind, number][]> = {
  0x03: [[3, 'address', 6]], // Connection Complete
  0x04: [[0, 'address', 6]], // Connection Request
  0x07: [[1, 'address', 6], [7, 'name', 248]], // Remote Name Request Complete
  0x12: [[1, 'address', 6]], // Role Change
  0x16: [[0, 'address', 6]], // PIN Code Request
  0x17: [[0, 'address', 6]], // Link Key Request
  0x18: [[0, 'address', 6], [6, 'secret', 16]], // Link Key Notification
  0x2c: [[3, 'address', 6]], // Synchronous Connection Complete
  0x31: [[0, 'address', 6]], // IO Capability Request
  0x32: [[0, 'address', 6]], // IO Capability Response
  0x33: [[0, 'address', 6]], // User Confirmation Request
  0x34: [[0, 'address', 6]], // User Passkey Request
  0x35: [[0, 'address', 6]], // Remote OOB Data Request
  0x36: [[1, 'address', 6]], // Simple Pairing Complete
  0x3b: [[0, 'address', 6], [6, 'secret', 4]], // User Passkey Notification
  0x3c: [[0, 'address', 6]], // Keypress Notification
  0x3d: [[0, 'address', 6]], // Remote Host Supported Features Notification
};

/** LE Meta subevent -> sites in the event parameters (offset 0 is the subevent code). */
const LE_SITES: Record<number, [number, SiteKind, number][]> = {
  0x01: [[6, 'address', 6]], // LE Connection Complete
  0x0a: [[6, 'address', 6], [12, 'address', 6], [18, 'address', 6]], // LE Enhanced Connection Complete (peer, local RPA, peer RPA)
  0x29: [[6, 'address', 6], [12, 'address', 6], [18, 'address', 6]], // v2
  0x05: [[3, 'secret', 8], [11, 'secret', 2]], // LE Long Term Key Request (Rand, EDIV)
  0x0e: [[6, 'address', 6]], // LE Periodic Advertising Sync Established
  0x13: [[3, 'address', 6]], // LE Scan Request Received
  0x24: [[6, 'address', 6]], // LE Periodic Advertising Sync Established v2
};

function push(out: ByteSite[], data: Uint8Array, offset: number, kind: SiteKind, length: number, what: string): void {
  if (offset >= data.length) return;
  out.push({ offset, length: Math.min(length, data.length - offset), kind, what });
}

/** LE Directed Advertising Report (0x3e/0x0b): event type, address type, address, direct address type, direct address, RSSI. */
function directedReports(data: Uint8Array, p: Uint8Array, base: number, out: ByteSite[]): void {
  const n = p[1] ?? 0;
  for (let i = 0, q = 2; i < n && q < p.length; i++, q += 16) {
    push(out, data, base + q + 2, 'address', 6, 'directed advertising report address');
    push(out, data, base + q + 9, 'address', 6, 'directed advertising report direct address');
  }
}

/** SMP key distribution (L2CAP CID 6) in a single ACL packet that holds a whole L2CAP frame. */
function smpSites(data: Uint8Array, out: ByteSite[]): void {
  if (data.length < 9) return;
  const pb = (data[1]! >> 4) & 3;
  if (pb === 0b01) return;
  const l2len = data[4]! | (data[5]! << 8);
  const cid = data[6]! | (data[7]! << 8);
  if (cid !== 0x0006 || 4 + 4 + l2len > data.length) return;
  const code = data[8];
  const at = 9;
  if (code === 0x06) push(out, data, at, 'secret', 16, 'SMP Encryption Information (LTK)');
  else if (code === 0x07) push(out, data, at, 'secret', 10, 'SMP Central Identification (EDIV, Rand)');
  else if (code === 0x08) push(out, data, at, 'secret', 16, 'SMP Identity Information (IRK)');
  else if (code === 0x09) push(out, data, at + 1, 'address', 6, 'SMP Identity Address Information');
  else if (code === 0x0a) push(out, data, at, 'secret', 16, 'SMP Signing Information (CSRK)');
}

/**
 * The identifying byte ranges of one HCI packet. `monitorOpcode` is the Linux monitor opcode of
 * non-packet records (New Index 0 and Index Info 12 carry the controller's address).
 */
export function hciSites(packetType: HciPacketType | undefined, data: Uint8Array, monitorOpcode?: number): ByteSite[] {
  const out: ByteSite[] = [];
  if (packetType === undefined) {
    if (monitorOpcode === 0) push(out, data, 2, 'address', 6, 'monitor New Index controller address');
    else if (monitorOpcode === 12) push(out, data, 0, 'address', 6, 'monitor Index Info controller address');
    return out;
  }
  if (packetType === HciPacketType.Command) {
    if (data.length < 3) return out;
    const opcode = data[0]! | (data[1]! << 8);
    for (const [at, kind, len] of COMMAND_SITES[opcode] ?? []) push(out, data, 3 + at, kind, len, `command 0x${opcode.toString(16).padStart(4, '0')} ${kind}`);
    if (opcode === 0x0c13) push(out, data, 3, 'name', 248, 'Write Local Name');
    return out;
  }
  if (packetType === HciPacketType.Event) {
    if (data.length < 2) return out;
    const code = data[0]!;
    const base = 2;
    const p = data.subarray(base, Math.min(data.length, base + data[1]!));
    for (const [at, kind, len] of EVENT_SITES[code] ?? []) push(out, data, base + at, kind, len, `event 0x${code.toString(16).padStart(2, '0')} ${kind}`);
    if (code === 0x0e && p.length >= 4) {
      const opcode = p[1]! | (p[2]! << 8);
      const at = COMPLETE_ADDRESS_AT[opcode];
      if (at !== undefined && p[3] === 0) push(out, data, base + 3 + at, 'address', 6, `Command Complete 0x${opcode.toString(16).padStart(4, '0')} address`);
      if (opcode === 0x0c14 && p[3] === 0) push(out, data, base + 4, 'name', 248, 'Read Local Name');
    }
    if (code === 0x2f && p.length >= 7) {
      push(out, data, base + 1, 'address', 6, 'extended inquiry result address');
    }
    if ((code === 0x02 || code === 0x22) && p.length >= 1) {
      const step = code === 0x02 ? 14 : 14;
      for (let i = 0; i < p[0]! && 1 + i * step + 6 <= p.length; i++) push(out, data, base + 1 + i * step, 'address', 6, 'inquiry result address');
    }
    if (code === 0x3e && p.length >= 1) {
      const sub = p[0]!;
      for (const [at, kind, len] of LE_SITES[sub] ?? []) push(out, data, base + at, kind, len, `LE event 0x${sub.toString(16).padStart(2, '0')} ${kind}`);
      // Legacy and extended advertising reports (0x02, 0x0d) are read by src/adverts: see the anonymizer.
      if (sub === 0x0b) directedReports(data, p, base, out);
    }
    return out;
  }
  if (packetType === HciPacketType.AclData) smpSites(data, out);
  return out;
}
