/** H4 packet types (Bluetooth Core spec, Vol 4, Part A). */
export const enum HciPacketType {
  Command = 0x01,
  AclData = 0x02,
  ScoData = 0x03,
  Event = 0x04,
  IsoData = 0x05,
}

/** Direction of an HCI packet as seen from the host. */
export type HciDirection = 'host-to-controller' | 'controller-to-host' | 'unknown';

/**
 * One HCI packet from a capture, whatever the file format. Link-layer framing
 * (H4 type byte, pcap direction word, monitor header) is removed: `data` starts
 * at the HCI packet header (e.g. the ACL handle field).
 */
export interface HciRecord {
  /** 1-based record number, as Wireshark counts frames. */
  frame: number;
  /** Byte offset of the record's header in the capture file. */
  fileOffset: number;
  /** Unix time in microseconds (integer). */
  timeUs: number;
  /** H4 packet type; undefined for non-packet records (e.g. monitor notes, index events). */
  packetType: HciPacketType | undefined;
  direction: HciDirection;
  /** The HCI packet bytes, without the H4 type byte. */
  data: Uint8Array;
  /** Byte offset of data[0] in the capture file (set by the file readers; rewriting tools patch bytes there). */
  dataOffset?: number;
  /** Length of the packet on the wire (HCI part), when the capture records it. */
  originalLength: number;
  /** True when the capture kept fewer bytes than the packet had (snaplen or Android filtered mode). */
  truncated: boolean;
  /** Controller index (Linux monitor) or pcapng interface id; 0 otherwise. */
  adapter: number;
  /** Linux monitor opcode, for datalink 2001 / LINKTYPE_BLUETOOTH_LINUX_MONITOR records. */
  monitorOpcode?: number;
}

/** btsnooz: the BTSNOOP_LOG_SUMMARY section of an Android bug report (a summary: recent packets, ACL cut). */
export type CaptureFormat = 'btsnoop' | 'pcap' | 'pcapng' | 'btsnooz';

export interface CaptureInfo {
  format: CaptureFormat;
  /** btsnoop datalink or pcap/pcapng link type (of the first interface for pcapng). */
  linkType: number;
  linkTypeName: string;
}

/** A problem found while reading: the reader goes on, or stops after the last complete record. */
export interface CaptureWarning {
  code: 'truncated-file' | 'bad-record' | 'truncated-record' | 'unsupported-link-type' | 'unknown-block' | 'filtered-log' | 'dropped-packets' | 'summary' | 'skipped-entry' | 'bad-timestamp' | 'empty-records';
  message: string;
  /** The input the warning is about (path, or `bugreport.zip:FS/…/btsnoop_hci.log`). */
  file?: string;
  /** Byte offset in the file the warning is about. */
  fileOffset?: number;
  frame?: number;
  /** More detail for --verbose (e.g. the stack of an exception). */
  detail?: string;
}

export interface ReadOptions {
  /** Called for each warning, in file order. */
  onWarning?: (w: CaptureWarning) => void;
  /** Called once the header is read. */
  onInfo?: (info: CaptureInfo) => void;
  /** Bytes read so far and file size, for progress display. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** A capture that cannot be read at all (bad magic, unsupported link type, I/O error). */
export class CaptureError extends Error {
  constructor(message: string, readonly fileOffset?: number) {
    super(message);
    this.name = 'CaptureError';
  }
}

/** A damaged entry of a bug report zip (capture/zip.ts): here so that readers can catch it without loading the zip code. */
export class ZipEntryError extends Error {
  constructor(
    message: string,
    readonly entry: string,
    /** Offset in the inflated entry of the first byte not delivered. */
    readonly entryOffset: number,
  ) {
    super(message);
    this.name = 'ZipEntryError';
  }
}

/** A zip's first bytes (a local file header). */
export const ZIP_MAGIC = 0x504b0304;
