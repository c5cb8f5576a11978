/** Direction of an ATT PDU relative to the BLE link: the host is the phone/laptop running the app. */
export type LinkDirection = 'host-to-device' | 'device-to-host';

/** An ATT PDU, reassembled from one or more ACL fragments. */
export interface AttPdu {
  /** Frame number of the last ACL fragment that completed the PDU (as Wireshark reports it). */
  frame: number;
  /** All frames the PDU was built from (one per ACL fragment; several for a long PDU). */
  frames: number[];
  timeUs: number;
  /** HCI connection handle. */
  connection: number;
  /** Peer address ("aa:bb:cc:dd:ee:ff"), when the connection event is in the capture. */
  device?: string;
  direction: LinkDirection;
  opcode: number;
  opcodeName: string;
  /** Attribute handle, for PDUs that carry one (read/write/notify/...; first handle of a range). */
  handle?: number;
  /** UUID of the attribute `handle`, when learned from discovery on this connection. */
  uuid?: string;
  /** Attribute value, for PDUs that carry one. */
  value?: Uint8Array;
  /** Opcode-specific decoded fields (e.g. MTU, error code, handle ranges, discovery lists). */
  fields: Record<string, unknown>;
  /** True when the capture cut the PDU short (snaplen or Android filtered snoop mode). */
  truncated: boolean;
  /** The whole ATT PDU bytes (opcode first). */
  raw: Uint8Array;
}

/** A non-ATT observation of the Bluetooth layers: connections and problems. */
export type BluetoothEvent =
  | { kind: 'connect'; frame: number; timeUs: number; connection: number; device: string; addressType: 'public' | 'random' | 'unknown'; role: 'central' | 'peripheral' }
  | { kind: 'disconnect'; frame: number; timeUs: number; connection: number; device?: string; reason: number }
  | { kind: 'diagnostic'; frame: number; timeUs: number; connection?: number; code: string; message: string };

/** One GATT attribute learned from discovery on one connection. */
export interface GattAttribute {
  handle: number;
  uuid: string;
  kind: 'service' | 'included-service' | 'characteristic-declaration' | 'characteristic-value' | 'descriptor';
}

export interface GattCharacteristic {
  declarationHandle: number;
  valueHandle: number;
  uuid: string;
  properties: number;
  propertyNames: string[];
  descriptors: { handle: number; uuid: string }[];
}

export interface GattService {
  startHandle: number;
  endHandle: number;
  uuid: string;
  primary: boolean;
  characteristics: GattCharacteristic[];
}

export interface GattDatabase {
  connection: number;
  device?: string;
  services: GattService[];
}
