/**
 * Capture readers: btsnoop, pcap (via pcap-parser), pcapng. The format is detected from the
 * first bytes; records stream out one by one (async iteration) with constant memory.
 */
import { open, stat } from 'node:fs/promises';
import { btsnoopRecords, parseBtsnoopHeader, BTSNOOP_HEADER_LENGTH } from './btsnoop.js';
import { describeHead, detectCaptureFormat } from './detect.js';
import { BTSNOOP_DATALINK_NAMES, LINK_TYPE_NAMES, SUPPORTED } from './link.js';
import { checkPcapLinkType, parsePcapHeader, pcapRecords, PCAP_HEADER_LENGTH } from './pcap.js';
import { pcapngFirstLinkType, pcapngRecords } from './pcapng.js';
import { fileChunks, memoryChunks } from './source.js';
import { ReadState } from './state.js';
import { CaptureError, type CaptureInfo, type CaptureWarning, type HciRecord, type ReadOptions } from './types.js';

export { detectCaptureFormat } from './detect.js';
export { btsnoopTimeUs } from './btsnoop.js';
export * from './types.js';

export interface CaptureReader {
  /** File path, or "<memory>". */
  path: string;
  size: number;
  info: CaptureInfo;
  /** The records in file order; iterate once (records() or batches(), not both). */
  records(): AsyncGenerator<HciRecord>;
  /** The same records in batches (one per chunk read): far fewer awaits on large files. */
  batches(): AsyncGenerator<HciRecord[]>;
  /** Warnings so far (all of them once records() is exhausted). */
  readonly warnings: CaptureWarning[];
  /** False when the file turned out truncated or corrupt (known once records() is exhausted). */
  readonly complete: boolean;
  readonly bytesRead: number;
}

const HEAD_SIZE = 1 << 16;

type ChunkSource = (start: number) => AsyncGenerator<Buffer>;

function makeReader(name: string, size: number, head: Buffer, chunks: ChunkSource, opts: ReadOptions): CaptureReader {
  const format = detectCaptureFormat(head);
  if (!format) throw new CaptureError(`${name}: not a capture file: ${describeHead(head)} at byte offset 0 (${SUPPORTED})`, 0);
  const state = new ReadState(size, opts);
  let info: CaptureInfo;
  let records: () => AsyncGenerator<HciRecord[]>;
  if (format === 'btsnoop') {
    const h = parseBtsnoopHeader(head);
    if (!h) throw new CaptureError(`${name}: btsnoop header is cut short (${head.length} of 16 bytes, byte offset ${head.length})`, head.length);
    if (h.version !== 1) throw new CaptureError(`${name}: btsnoop version ${h.version} is not supported (only version 1 exists)`, 8);
    if (![1001, 1002, 2001].includes(h.datalink)) {
      const n = BTSNOOP_DATALINK_NAMES[h.datalink];
      throw new CaptureError(`${name}: unsupported btsnoop datalink ${h.datalink}${n ? ` (${n})` : ''} (${SUPPORTED})`, 12);
    }
    info = { format, linkType: h.datalink, linkTypeName: BTSNOOP_DATALINK_NAMES[h.datalink]! };
    records = () => btsnoopRecords(chunks(BTSNOOP_HEADER_LENGTH), h, state);
  } else if (format === 'pcap') {
    const h = parsePcapHeader(head)!;
    checkPcapLinkType(h.linkType, 'pcap');
    info = { format, linkType: h.linkType, linkTypeName: LINK_TYPE_NAMES[h.linkType]! };
    records = () => pcapRecords(chunks(0), h, state, size);
    if (size < PCAP_HEADER_LENGTH) throw new CaptureError(`${name}: pcap header is cut short`, size);
  } else {
    const lt = pcapngFirstLinkType(head);
    if (lt !== undefined && !(lt in LINK_TYPE_NAMES)) {
      // Only fatal when the first interface is not Bluetooth; later non-Bluetooth interfaces are warned about.
      throw new CaptureError(`${name}: unsupported pcapng link type ${lt}: not Bluetooth HCI (${SUPPORTED})`);
    }
    info = { format, linkType: lt ?? -1, linkTypeName: lt !== undefined ? LINK_TYPE_NAMES[lt]! : 'unknown (no interface description)' };
    records = () => pcapngRecords(chunks(0), state);
  }
  opts.onInfo?.(info);
  let used = false;
  return {
    path: name,
    size,
    info,
    batches() {
      if (used) throw new Error('a CaptureReader can be iterated only once');
      used = true;
      return records();
    },
    async *records() {
      for await (const batch of this.batches()) yield* batch;
    },
    get warnings() {
      return state.warnings;
    },
    get complete() {
      return state.complete;
    },
    get bytesRead() {
      return state.bytesRead;
    },
  };
}

/** Opens a capture file; throws CaptureError (one line) when it is not a capture we can read. */
export async function openCapture(path: string, opts: ReadOptions = {}): Promise<CaptureReader> {
  let size: number;
  let head: Buffer;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new CaptureError(`${path}: is a directory, not a capture file`);
    size = st.size;
    const fh = await open(path, 'r');
    try {
      head = Buffer.alloc(Math.min(HEAD_SIZE, size));
      await fh.read(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof CaptureError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new CaptureError(`${path}: cannot read: ${why}`);
  }
  return makeReader(path, size, head, (start) => fileChunks(path, start), opts);
}

/** Reads a capture held in memory (tests, browsers, bugreport extraction). */
export async function parseCapture(bytes: Uint8Array, opts: ReadOptions = {}): Promise<{ info: CaptureInfo; records: HciRecord[]; warnings: CaptureWarning[]; complete: boolean }> {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, HEAD_SIZE));
  const reader = makeReader('<memory>', bytes.byteLength, head, (start) => memoryChunks(bytes, start), opts);
  const records: HciRecord[] = [];
  for await (const r of reader.records()) records.push(r);
  return { info: reader.info, records, warnings: reader.warnings, complete: reader.complete };
}
