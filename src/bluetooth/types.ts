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
  /**
   * 1-based connection session (connect -> disconnect) in capture order: HCI reuses a handle for
   * every reconnection. Always set by AttExtractor.
   */
  session?: number;
  /** The capture the PDU came from, when a run reads several (path, or zip:entry). */
  file?: string;
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
  /** The whole ATT PDU bytes (opcode first). On AttExtractor's PDUs an accessor that makes a new view when read, not an own property. */
  raw: Uint8Array;
}

/** A non-ATT observation of the Bluetooth layers: connections and problems. */
export type BluetoothEvent =
  | { kind: 'connect'; frame: number; timeUs: number; connection: number; session: number; device: string; addressType: 'public' | 'random' | 'unknown'; role: 'central' | 'peripheral' }
  | {
      kind: 'disconnect';
      frame: number;
      timeUs: number;
      connection: number;
      session: number;
      device?: string;
      /** HCI reason code of Disconnection Complete; -1 when the session ended otherwise (see `end`). */
      reason: number;
      end: SessionEnd;
    }
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

/** How a session ended: its Disconnection Complete, an HCI Reset, a new connection on the same handle, a gap between files, or the end of the capture. */
export type SessionEnd = 'disconnect' | 'reset' | 'reconnect' | 'file-gap' | 'end-of-capture';

/**
 * One connection session: from its connection event (or the first packet on the handle when the
 * capture began mid-connection) to its disconnection. HCI reuses a handle for every reconnection.
 */
export interface SessionInfo {
  /** 1-based, in capture order. */
  session: number;
  connection: number;
  adapter: number;
  device?: string;
  /** The capture the session began in (when the run reads several). */
  file?: string;
  startFrame: number;
  startTimeUs: number;
  /** False when the capture began mid-connection (no connection event). */
  connected: boolean;
  endFile?: string;
  endFrame?: number;
  endTimeUs?: number;
  end?: SessionEnd;
  /** HCI disconnection reason code (end = disconnect). */
  reason?: number;
  /** ATT PDUs on the session. */
  attPdus: number;
  /** Frame of the first Encryption Change event (link encrypted), if any. */
  encryptedFrame?: number;
}
