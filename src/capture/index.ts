/**
 * Capture readers: btsnoop, pcap (via pcap-parser), pcapng. The format is detected from the
 * first bytes; records stream out one by one (async iteration) with constant memory.
 */
import { open, stat } from 'node:fs/promises';
import { btsnoopRecords, btsnoopTimeUs, parseBtsnoopHeader, BTSNOOP_HEADER_LENGTH, BTSNOOP_MAGIC } from './btsnoop.js';
import { describeHead, detectCaptureFormat } from './detect.js';
import { BTSNOOP_DATALINK_NAMES, LINK_TYPE_NAMES, SUPPORTED } from './link.js';
import { checkPcapLinkType, parsePcapHeader, pcapRecords, PCAP_HEADER_LENGTH } from './pcap.js';
import { pcapngFirstLinkType, pcapngRecords } from './pcapng.js';
import { fileChunks, memoryChunks, OneShotSource } from './source.js';
import { decodeSnooz, findSnoozSection, type SnoozSection } from './btsnooz.js';
import type { ZipArchive, ZipEntryInfo } from './zip.js';
import { ReadState } from './state.js';
import { CaptureError, ZipEntryError, ZIP_MAGIC, type CaptureInfo, type CaptureWarning, type HciRecord, type ReadOptions } from './types.js';

export { detectCaptureFormat } from './detect.js';
export { btsnoopTimeUs } from './btsnoop.js';
export { decodeSnooz, findSnoozSection, SNOOZ_BEGIN, SNOOZ_END } from './btsnooz.js';
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
  /** Reports damage found past the reader (a record a later stage cannot read): warned like the reader's own, and the capture is not complete. */
  warn(w: CaptureWarning): void;
}

const HEAD_SIZE = 1 << 16;
/** Records per batch for readers that hold their records already (btsnooz). */
const SNOOZ_BATCH = 4096;

/** Where a reader's bytes come from: a file, memory, or a zip entry (inflated as it streams). */
type ChunkSource = (start: number) => AsyncGenerator<Buffer>;

/** A broken byte source (damaged zip entry) ends the records with one warning naming the entry and offset. */
async function* guarded(chunks: AsyncGenerator<Buffer>, state: ReadState): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (e) {
    if (!(e instanceof ZipEntryError)) throw e;
    state.stop({ code: 'bad-record', message: `${e.message}; stopped reading there`, fileOffset: e.entryOffset });
  }
}

function readerOf(name: string, size: number, info: CaptureInfo, state: ReadState, records: () => AsyncGenerator<HciRecord[]>, onDone?: () => void): CaptureReader {
  let used = false;
  return {
    path: name,
    size,
    info,
    async *batches() {
      if (used) throw new Error('a CaptureReader can be iterated only once');
      used = true;
      try {
        yield* records();
      } finally {
        onDone?.();
      }
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
    warn(w: CaptureWarning) {
      state.warn(w);
    },
  };
}

/**
 * `size` is the file's size, or NaN for a stream input (a pipe), whose bytes are counted as they
 * come (`streamBytes`).
 */
function makeReader(name: string, size: number, head: Buffer, chunkSource: ChunkSource, opts: ReadOptions, onDone?: () => void, streamBytes?: () => number): CaptureReader {
  const format = detectCaptureFormat(head);
  if (!format) throw new CaptureError(`${name}: not a capture file: ${describeHead(head)} at byte offset 0 (${SUPPORTED})`, 0);
  const state = new ReadState(size, opts, name === '<memory>' ? undefined : name);
  const chunks = (start: number) => guarded(chunkSource(start), state);
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
    records = () => pcapRecords(chunks(0), h, state, streamBytes ?? (() => size));
    if (head.length < PCAP_HEADER_LENGTH) throw new CaptureError(`${name}: pcap header is cut short`, size);
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
  return readerOf(name, size, info, state, records, onDone);
}

/** A reader over the BTSNOOP_LOG_SUMMARY section of a bug report's text (held in memory: a summary is small, and capped). */
function snoozReader(name: string, section: SnoozSection, opts: ReadOptions): CaptureReader {
  const info: CaptureInfo = { format: 'btsnooz', linkType: 1002, linkTypeName: 'btsnooz summary of HCI packets (H4)' };
  const state = new ReadState(section.base64.length, opts, name);
  opts.onInfo?.(info);
  async function* records(): AsyncGenerator<HciRecord[]> {
    const blob = Buffer.from(section.base64, 'base64');
    let d: ReturnType<typeof decodeSnooz>;
    try {
      d = decodeSnooz(blob);
    } catch (e) {
      state.stop({ code: 'bad-record', message: `BTSNOOP_LOG_SUMMARY at line ${section.line}: ${(e as Error).message}`, fileOffset: section.offset });
      state.finish(0);
      return;
    }
    state.warn({
      code: 'summary',
      message:
        `this is a btsnooz summary (BTSNOOP_LOG_SUMMARY, version ${d.version}, line ${section.line} of the text): only the ${d.records.length} most recent packets the phone kept in memory` +
        `${d.cut ? `, ${d.cut} ACL packet(s) cut to their first bytes (values flagged 'truncated')` : ''}. ${FULL_LOG_HOWTO}`,
      fileOffset: section.offset,
    });
    if (d.unknownTypes) state.warn({ code: 'bad-record', message: `${d.unknownTypes} btsnooz record(s) of an unknown packet type (not decoded)` });
    for (let i = 0; i < d.records.length; i += SNOOZ_BATCH) {
      yield d.records.slice(i, i + SNOOZ_BATCH);
      state.progress(Math.round((section.base64.length * Math.min(d.records.length, i + SNOOZ_BATCH)) / d.records.length));
    }
    const problem = section.problem ?? d.problem;
    if (problem) state.stop({ code: 'truncated-file', message: `${problem.message}; ${d.records.length} complete packet(s) before it were read`, fileOffset: problem.offset });
    state.finish(section.base64.length);
  }
  return readerOf(name, section.base64.length, info, state, records);
}

async function readHead(chunks: AsyncGenerator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of chunks) {
    parts.push(c);
    n += c.length;
    if (n >= HEAD_SIZE) break;
  }
  const b = Buffer.concat(parts);
  return b.length > HEAD_SIZE ? b.subarray(0, HEAD_SIZE) : b;
}

/** Text, as far as the first bytes tell (a bug report dump): no NUL, mostly printable. */
function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false;
  let printable = 0;
  for (const b of head) {
    if (b === 0) return false;
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0x80) printable++;
  }
  return printable / head.length > 0.95;
}

export const FULL_LOG_HOWTO =
  'For the whole session use the full snoop log: Developer options > Enable Bluetooth HCI snoop log > Enabled, toggle Bluetooth off and on, use the app, then `adb bugreport` (the zip holds FS/data/misc/bluetooth/logs/btsnoop_hci.log)';

/** Names of Android snoop logs: btsnoop_hci.log, .last, .filtered (any folder: Samsung keeps them in FS/data/log/bt/). */
const SNOOP_NAME = /(^|\/)btsnoop_hci[^/]*\.log[^/]*$/;

function byName(a: string, b: string): number {
  // btsnoop_hci.log.last is the previous log: older than btsnoop_hci.log.
  const rank = (n: string) => (n.endsWith('.last') ? 0 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
}

async function zipReaders(path: string, opts: ReadOptions): Promise<CaptureReader[]> {
  // Loaded when a zip is met: yauzl and zlib are a few ms of every start otherwise (issue 11).
  const { describeZip, openZip, openZipByLocalHeaders } = await import('./zip.js');
  let zip: ZipArchive;
  let recovered: CaptureWarning | undefined;
  try {
    zip = await openZip(path);
  } catch (e) {
    // No central directory (a bug report cut short): find the entries by their local headers.
    const why = (e as Error).message;
    const walked = await openZipByLocalHeaders(path).catch(() => undefined);
    if (!walked || walked.entries.length === 0) throw new CaptureError(`${path}: not a readable zip: ${why}`);
    zip = walked;
    const cut = walked.cutAt ? `; the zip ends at byte offset ${walked.cutAt.offset}, inside ${walked.cutAt.entry}` : '';
    recovered = { code: 'truncated-file', message: `${path}: not a complete zip (${why}); found ${walked.entries.length} entr${walked.entries.length === 1 ? 'y' : 'ies'} by their local headers${cut}`, fileOffset: walked.cutAt?.offset };
  }
  try {
    const logs = zip.entries.filter((e) => SNOOP_NAME.test(e.name));
    const full = logs.filter((e) => !e.name.includes('.filtered'));
    const chosen = full.length ? full : logs;
    const found: { entry: ZipEntryInfo; head: Buffer; firstUs?: number }[] = [];
    const skipped: string[] = [];
    for (const entry of chosen) {
      let head: Buffer;
      try {
        head = await readHead(zip.chunks(entry));
      } catch (e) {
        if (!(e instanceof ZipEntryError)) throw e;
        // Even the first bytes are damaged: keep going with the other logs, say so.
        skipped.push(`${entry.name} (${e.message.slice(path.length + 1)})`);
        continue;
      }
      if (entry.size === 0) {
        skipped.push(`${entry.name} (empty)`);
        continue;
      }
      if (detectCaptureFormat(head) === undefined) {
        skipped.push(`${entry.name} (not a capture: ${describeHead(head)})`);
        continue;
      }
      const firstUs = head.length >= BTSNOOP_HEADER_LENGTH + 24 && head.subarray(0, 8).equals(BTSNOOP_MAGIC) ? btsnoopTimeUs(head.readUInt32BE(32), head.readUInt32BE(36)) : undefined;
      found.push({ entry, head, firstUs });
    }
    const notes: CaptureWarning[] = recovered ? [recovered] : [];
    if (skipped.length) notes.push({ code: 'skipped-entry', message: `${path}: skipped ${skipped.join('; ')}` });
    if (full.length && logs.length > full.length) notes.push({ code: 'skipped-entry', message: `${path}: read the full snoop log(s), not the filtered one(s): ${logs.filter((e) => e.name.includes('.filtered')).map((e) => e.name).join(', ')}` });
    if (found.length) {
      // Oldest first: by the first packet's time, else by name (.last before the current log).
      found.sort((a, b) => (a.firstUs !== undefined && b.firstUs !== undefined && a.firstUs !== b.firstUs ? a.firstUs - b.firstUs : byName(a.entry.name, b.entry.name)));
      for (const n of notes) opts.onWarning?.(n);
      const readers = found.map(({ entry, head }) => {
        zip.retain();
        return makeReader(`${path}:${entry.name}`, entry.size, head, (start) => zip.chunks(entry, start), opts, () => zip.release());
      });
      return readers;
    }
    // No snoop log file: older Android puts a btsnooz summary in the bug report's text dump.
    const texts = zip.entries.filter((e) => e.name.endsWith('.txt')).sort((a, b) => Number(/^bugreport/.test(b.name.split('/').pop()!)) - Number(/^bugreport/.test(a.name.split('/').pop()!)) || b.size - a.size);
    for (const entry of texts) {
      let section: SnoozSection | undefined;
      try {
        section = await findSnoozSection(zip.chunks(entry));
      } catch (e) {
        if (!(e instanceof ZipEntryError)) throw e;
        throw new CaptureError(`${e.message} (while looking for BTSNOOP_LOG_SUMMARY)`, e.entryOffset);
      }
      if (section) {
        for (const n of notes) opts.onWarning?.(n);
        return [snoozReader(`${path}:${entry.name}`, section, opts)];
      }
    }
    const why = logs.length ? `its snoop log entries could not be read: ${skipped.join('; ')}` : 'no btsnoop_hci.log';
    throw new CaptureError(
      `${path}: no Bluetooth snoop log in this zip (${why}; no BTSNOOP_LOG_SUMMARY section in ${texts.length} text file(s)); it holds ${describeZip(zip.entries)}${recovered ? ` (found by their local headers: ${recovered.message.slice(path.length + 2)})` : ''}. ${FULL_LOG_HOWTO}`,
    );
  } finally {
    zip.release();
  }
}

/**
 * Opens one input and returns its captures, oldest first: a capture file gives one; an Android
 * bug report zip gives its snoop logs (btsnoop_hci.log.last, then btsnoop_hci.log), or the
 * btsnooz summary of its text dump; a bug report text file gives its btsnooz summary.
 * Throws CaptureError (one line) when there is nothing to read.
 */
export async function openCaptures(path: string, opts: ReadOptions = {}): Promise<CaptureReader[]> {
  let size: number;
  let head: Buffer;
  try {
    if (path === '-') return await streamCaptures(path, opts);
    const st = await stat(path);
    if (st.isDirectory()) throw new CaptureError(`${path}: is a directory, not a capture file`);
    if (!st.isFile()) return await streamCaptures(path, opts);
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
  return capturesOf(path, size, head, (start) => fileChunks(path, start), opts, () => zipReaders(path, opts));
}

/**
 * What the first bytes say an input is: a capture, a bug report zip (`zip` opens it), a bug report's
 * text with a btsnooz summary, or nothing we read (CaptureError, one line).
 */
async function capturesOf(name: string, size: number, head: Buffer, chunks: ChunkSource, opts: ReadOptions, zip: () => Promise<CaptureReader[]>, streamBytes?: () => number): Promise<CaptureReader[]> {
  if (detectCaptureFormat(head)) return [makeReader(name, size, head, chunks, opts, undefined, streamBytes)];
  if (head.length >= 4 && (head.readUInt32BE(0) === ZIP_MAGIC || head.readUInt32BE(0) === 0x504b0506)) return zip();
  if (looksLikeText(head)) {
    const section = await findSnoozSection(chunks(0));
    if (section) return [snoozReader(name, section, opts)];
    throw new CaptureError(`${name}: not a capture file: ${describeHead(head)} at byte offset 0 (${SUPPORTED}); read as text, it has no BTSNOOP_LOG_SUMMARY section either`, 0);
  }
  throw new CaptureError(`${name}: not a capture file: ${describeHead(head)} at byte offset 0 (${SUPPORTED})`, 0);
}

/**
 * A capture read as it arrives, once, from its start: standard input ('-'), a FIFO, a process
 * substitution. Everything but a zip (which must be seeked) reads as from a file.
 */
async function streamCaptures(path: string, opts: ReadOptions): Promise<CaptureReader[]> {
  const name = path === '-' ? '<stdin>' : path;
  const { source, head } = await OneShotSource.open(path, HEAD_SIZE);
  const zip = () => Promise.reject(new CaptureError(`${name}: a zip (Android bug report) cannot be read from a pipe: its index is at its end; save it to a file first`, 0));
  try {
    return await capturesOf(name, NaN, head, (start) => source.chunks(start), opts, zip, () => source.bytes);
  } catch (e) {
    source.close();
    throw e;
  }
}

/** Opens a capture file; throws CaptureError (one line) when it is not one capture we can read. */
export async function openCapture(path: string, opts: ReadOptions = {}): Promise<CaptureReader> {
  const all = await openCaptures(path, opts);
  if (all.length !== 1) throw new CaptureError(`${path}: holds ${all.length} captures (${all.map((r) => r.path).join(', ')}); use openCaptures()`);
  return all[0]!;
}

/** Reads a capture held in memory (tests, browsers, bugreport extraction). */
export async function parseCapture(bytes: Uint8Array, opts: ReadOptions = {}): Promise<{ info: CaptureInfo; records: HciRecord[]; warnings: CaptureWarning[]; complete: boolean }> {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, HEAD_SIZE));
  const reader = makeReader('<memory>', bytes.byteLength, head, (start) => memoryChunks(bytes, start), opts);
  const records: HciRecord[] = [];
  for await (const r of reader.records()) records.push(r);
  return { info: reader.info, records, warnings: reader.warnings, complete: reader.complete };
}

/**
 * The captures of one run, in order: every input path expanded (a bug report zip can hold two
 * logs). Frame numbers stay per capture, as Wireshark shows them for each file.
 */
export class CaptureSet {
  /** The capture being read (set by whoever iterates the readers in turn). */
  current: CaptureReader | undefined;

  constructor(readonly readers: CaptureReader[]) {}

  /** Damage found past the reader, reported on the capture being read (see CaptureReader.warn). */
  warn(w: CaptureWarning): void {
    (this.current ?? this.readers[0]!).warn(w);
  }

  /** More than one capture: records then carry the name of their capture (`file`). */
  get multi(): boolean {
    return this.readers.length > 1;
  }

  get path(): string {
    return this.readers.map((r) => r.path).join(', ');
  }

  /** The first capture's format (what `vgatt att` reports in its summary line). */
  get info(): CaptureInfo {
    return this.readers[0]!.info;
  }

  /** "btsnoop, HCI UART (H4)" per distinct format. */
  describe(): string {
    return [...new Set(this.readers.map((r) => `${r.info.format}, ${r.info.linkTypeName}`))].join('; ');
  }

  get complete(): boolean {
    return this.readers.every((r) => r.complete);
  }

  get warnings(): CaptureWarning[] {
    return this.readers.flatMap((r) => r.warnings);
  }
}

/** Opens every input (see openCaptures) in the order given. */
export async function openCaptureSet(paths: string | string[], opts: ReadOptions = {}): Promise<CaptureSet> {
  const readers: CaptureReader[] = [];
  for (const p of typeof paths === 'string' ? [paths] : paths) readers.push(...(await openCaptures(p, opts)));
  return new CaptureSet(readers);
}
