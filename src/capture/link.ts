/**
 * Link-layer framings shared by the file formats: H4 (a packet-type byte first), H4 with the
 * 4-byte pcap direction word (link type 201), and the Linux monitor header (btsnoop 2001, link type 254).
 * Each returns the HCI packet type, direction and the offset where the HCI packet starts.
 */
import { HciPacketType, type HciDirection } from './types.js';

export interface LinkFraming {
  packetType: HciPacketType | undefined;
  direction: HciDirection;
  /** Offset of the HCI packet (after the framing bytes) inside the record data. */
  start: number;
  adapter?: number;
  monitorOpcode?: number;
}

/** Direction implied by an H4 packet type when the capture does not say: commands go down, events come up. */
function impliedDirection(type: number): HciDirection {
  if (type === HciPacketType.Command) return 'host-to-controller';
  if (type === HciPacketType.Event) return 'controller-to-host';
  return 'unknown';
}

export function h4Type(b: number | undefined): HciPacketType | undefined {
  return b !== undefined && b >= 1 && b <= 5 ? (b as HciPacketType) : undefined;
}

/** H4 with no direction information (btsnoop 1002 gives the direction in its flags). */
export function framingH4(data: Uint8Array, direction: HciDirection | undefined): LinkFraming {
  const type = h4Type(data[0]);
  return { packetType: type, direction: direction ?? (type ? impliedDirection(type) : 'unknown'), start: 1 };
}

/** LINKTYPE_BLUETOOTH_HCI_H4_WITH_PHDR (201): a big-endian u32 whose bit 0 is set for received packets. */
export function framingH4Phdr(data: Uint8Array): LinkFraming {
  if (data.length < 5) return { packetType: undefined, direction: 'unknown', start: Math.min(4, data.length) };
  const received = (data[3]! & 1) === 1;
  return { packetType: h4Type(data[4]), direction: received ? 'controller-to-host' : 'host-to-controller', start: 5 };
}

/** Linux monitor opcodes (BlueZ monitor/bt.h) that carry HCI packets. */
const MONITOR_OPCODES: Record<number, [HciPacketType, HciDirection]> = {
  2: [HciPacketType.Command, 'host-to-controller'],
  3: [HciPacketType.Event, 'controller-to-host'],
  4: [HciPacketType.AclData, 'host-to-controller'],
  5: [HciPacketType.AclData, 'controller-to-host'],
  6: [HciPacketType.ScoData, 'host-to-controller'],
  7: [HciPacketType.ScoData, 'controller-to-host'],
  18: [HciPacketType.IsoData, 'host-to-controller'],
  19: [HciPacketType.IsoData, 'controller-to-host'],
};

export function framingMonitor(opcode: number, adapter: number, start: number): LinkFraming {
  const m = MONITOR_OPCODES[opcode];
  return { packetType: m?.[0], direction: m?.[1] ?? 'unknown', start, adapter, monitorOpcode: opcode };
}

/** pcap/pcapng link types we read, by number. */
export const LINK_TYPE_NAMES: Record<number, string> = {
  187: 'Bluetooth HCI H4',
  201: 'Bluetooth HCI H4 with pseudo-header',
  254: 'Bluetooth Linux monitor',
};

export const BTSNOOP_DATALINK_NAMES: Record<number, string> = {
  1001: 'HCI un-encapsulated',
  1002: 'HCI UART (H4)',
  1003: 'HCI BSCP',
  1004: 'HCI Serial (H5)',
  2001: 'Linux monitor',
};

export const SUPPORTED =
  'supported: btsnoop (datalink 1001, 1002, 2001), pcap and pcapng with link type 187, 201 or 254, Android bug report zips and btsnooz text';

/** Framing of one pcap/pcapng packet by its link type: 201 H4 with direction header, 254 Linux monitor, else 187 H4. */
export function linkFraming(linkType: number, data: Uint8Array): LinkFraming {
  if (linkType === 201) return framingH4Phdr(data);
  if (linkType === 254) return data.length >= 4 ? framingMonitor((data[2]! << 8) | data[3]!, (data[0]! << 8) | data[1]!, 4) : framingMonitor(-1, 0, data.length);
  return framingH4(data, undefined);
}
