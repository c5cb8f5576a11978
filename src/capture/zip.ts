/**
 * Android bug report zips (`adb bugreport`), read with yauzl: the central directory is read once,
 * each entry is streamed (inflated by our own zlib stream, so a damaged entry says at which
 * compressed byte it broke); the zip is never held in memory.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ZipEntryError } from './types.js';

export interface ZipEntryInfo {
  name: string;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header in the zip. */
  localHeaderOffset: number;
  method: number;
}

export interface ZipArchive {
  path: string;
  entries: ZipEntryInfo[];
  /**
   * The entry's bytes from `start` (inflated). A damaged entry ends the iteration with a ZipEntryError
   * that names the entry and the offsets; bytes before the damage have been yielded.
   */
  chunks(entry: ZipEntryInfo, start?: number): AsyncGenerator<Buffer>;
  /** Closes the zip once every reader is done (entries opened after this still work until then). */
  release(): void;
  retain(): void;
}

/**
 * An entry's bytes from `start`, inflated (method 8) or stored from `raw`, its data at zip offset
 * `dataStart`; never more than `limit` bytes (a crafted zip could inflate past what it declares).
 * Damage ends the iteration with a ZipEntryError naming the entry and both offsets; the bytes
 * before it have been yielded. Returns how many bytes came, and their CRC-32 when exactly `limit`
 * did (Node >= 20.15 has zlib.crc32), to catch damage that still inflates.
 */
async function* entryBytes(path: string, info: ZipEntryInfo, raw: Readable, dataStart: number, start: number, limit: number): AsyncGenerator<Buffer, { bytes: number; crc?: number }> {
  const inflate = info.method === 8 ? zlib.createInflateRaw() : undefined;
  const crc32 = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  let crc = 0;
  const stream: Readable = inflate ? raw.pipe(inflate) : raw;
  if (inflate) raw.on('error', (err) => inflate.destroy(err));
  let pos = 0;
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      if (crc32) crc = crc32(c, crc);
      const end = pos + c.length;
      if (end > limit) throw new ZipEntryError(`${path}:${info.name}: inflates past its declared ${limit} bytes at byte offset ${limit} of the entry; stopped there`, info.name, pos);
      if (end > start) yield pos >= start ? c : c.subarray(start - pos);
      pos = end;
    }
  } catch (err) {
    if (err instanceof ZipEntryError) throw err;
    const consumed = inflate ? inflate.bytesWritten : pos;
    const why = /unexpected end/i.test((err as Error).message) ? 'deflate data cut short' : (err as Error).message;
    throw new ZipEntryError(`${path}:${info.name}: ${why} at byte offset ${pos} of the entry (zip byte offset ${dataStart + consumed})`, info.name, pos);
  } finally {
    raw.destroy();
    inflate?.destroy();
  }
  return { bytes: pos, crc: crc32 && pos === limit ? crc : undefined };
}

/** Opens a zip and lists its entries; throws an Error with yauzl's reason when it is not a readable zip. */
export async function openZip(path: string): Promise<ZipArchive> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false, decodeStrings: true });
  const entries: ZipEntryInfo[] = [];
  const byName = new Map<string, yauzl.Entry>();
  try {
    for await (const e of zip.eachEntry()) {
      if (e.fileName.endsWith('/')) continue;
      entries.push({ name: e.fileName, compressedSize: e.compressedSize, size: e.uncompressedSize, localHeaderOffset: e.relativeOffsetOfLocalHeader, method: e.compressionMethod });
      byName.set(e.fileName, e);
    }
  } catch (err) {
    zip.close();
    throw new Error(`damaged zip central directory after ${entries.length} entries: ${(err as Error).message}`);
  }
  let refs = 1;
  const release = () => {
    if (--refs === 0) zip.close();
  };
  async function* chunks(info: ZipEntryInfo, start = 0): AsyncGenerator<Buffer> {
    const e = byName.get(info.name)!;
    if (e.isEncrypted()) throw new ZipEntryError(`${path}:${info.name}: the entry is encrypted`, info.name, 0);
    if (info.method !== 0 && info.method !== 8) throw new ZipEntryError(`${path}:${info.name}: unsupported zip compression method ${info.method}`, info.name, 0);
    let raw: Readable;
    let dataStart = info.localHeaderOffset;
    try {
      dataStart = (await zip.readLocalFileHeaderPromise(e, { minimal: true })).fileDataStart;
      raw = await zip.openReadStreamPromise(e, { decodeFileData: false });
    } catch (err) {
      throw new ZipEntryError(`${path}:${info.name}: damaged local header at zip byte offset ${info.localHeaderOffset}: ${(err as Error).message}`, info.name, 0);
    }
    const { crc } = yield* entryBytes(path, info, raw, dataStart, start, info.size);
    if (crc !== undefined && crc >>> 0 !== e.crc32 >>> 0) {
      throw new ZipEntryError(`${path}:${info.name}: CRC-32 mismatch over the entry's ${info.size} bytes: its data is corrupt somewhere (records may be wrong)`, info.name, info.size);
    }
  }
  return {
    path,
    entries,
    chunks,
    release,
    retain: () => void refs++,
  };
}

/** A zip's contents in a few words, for "no snoop log here" messages: entry count and top-level names. */
export function describeZip(entries: ZipEntryInfo[]): string {
  const top = new Map<string, number>();
  for (const e of entries) {
    const t = e.name.includes('/') ? e.name.slice(0, e.name.indexOf('/') + 1) : e.name;
    top.set(t, (top.get(t) ?? 0) + 1);
  }
  const list = [...top].slice(0, 8).map(([n, c]) => (n.endsWith('/') ? `${n} (${c} file${c > 1 ? 's' : ''})` : n));
  return `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}: ${list.join(', ')}${top.size > 8 ? ', …' : ''}`;
}

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;

/** An entry found by its local header (no central directory to say where it is). */
interface LocalEntry extends ZipEntryInfo {
  dataStart: number;
  /** Compressed bytes present in the file (fewer than the entry had when the zip is cut inside it). */
  compressedPresent: number;
  /** The entry's data runs past the end of the file. */
  cut: boolean;
  crc: number;
}

/** Inflates raw deflate data from `start` of the file; resolves with what it consumed and produced, and whether it ended cleanly. */
async function inflateExtent(path: string, start: number): Promise<{ consumed: number; produced: number; complete: boolean }> {
  const raw = createReadStream(path, { start, highWaterMark: 1 << 16 });
  const inflate = zlib.createInflateRaw();
  let produced = 0;
  try {
    for await (const c of raw.pipe(inflate) as AsyncIterable<Buffer>) produced += c.length;
    return { consumed: inflate.bytesWritten, produced, complete: true };
  } catch {
    return { consumed: inflate.bytesWritten, produced, complete: false };
  } finally {
    raw.destroy();
    inflate.destroy();
  }
}

/**
 * A zip without its central directory (cut short: a bug report whose download stopped): the entries
 * are found by walking their local headers from the start of the file, as `unzip -F` would. An
 * entry whose sizes come only after its data (bit 3: Android's libziparchive writes them so) is
 * measured by inflating it, since deflate data knows where it ends. The walk stops at the first
 * byte that is not a local header (the central directory, or the cut).
 * yauzl reads only zips with a central directory, hence this by hand.
 */
export async function openZipByLocalHeaders(path: string): Promise<ZipArchive & { cutAt?: { entry: string; offset: number } }> {
  const fh = await open(path, 'r');
  const entries: LocalEntry[] = [];
  let cutAt: { entry: string; offset: number } | undefined;
  try {
    const fileSize = (await fh.stat()).size;
    const head = Buffer.alloc(30);
    for (let pos = 0; pos + 30 <= fileSize; ) {
      await fh.read(head, 0, 30, pos);
      if (head.readUInt32LE(0) !== LOCAL_HEADER) break;
      const flags = head.readUInt16LE(6);
      const method = head.readUInt16LE(8);
      const crc = head.readUInt32LE(14);
      let compressedSize = head.readUInt32LE(18);
      let size = head.readUInt32LE(22);
      const nameLen = head.readUInt16LE(26);
      const dataStart = pos + 30 + nameLen + head.readUInt16LE(28);
      if (dataStart > fileSize) break;
      const nameBuf = Buffer.alloc(nameLen);
      await fh.read(nameBuf, 0, nameLen, pos + 30);
      const name = nameBuf.toString('utf8');
      const sizesAfter = (flags & 8) !== 0 && compressedSize === 0;
      let cut = false;
      let next: number;
      if (sizesAfter) {
        if (method !== 8) break; // stored data of unknown length: nothing says where it ends
        const x = await inflateExtent(path, dataStart);
        [compressedSize, size, cut] = [x.consumed, x.produced, !x.complete];
        next = dataStart + compressedSize;
        if (!cut) {
          const d = Buffer.alloc(4);
          await fh.read(d, 0, 4, next);
          next += d.readUInt32LE(0) === DATA_DESCRIPTOR ? 16 : 12;
        }
      } else {
        cut = dataStart + compressedSize > fileSize;
        next = dataStart + compressedSize + ((flags & 8) !== 0 ? 16 : 0);
      }
      const compressedPresent = Math.min(compressedSize, fileSize - dataStart);
      if (!name.endsWith('/')) entries.push({ name, compressedSize, size, localHeaderOffset: pos, method, dataStart, compressedPresent, cut, crc });
      if (cut) {
        cutAt = { entry: name, offset: fileSize };
        break;
      }
      pos = next;
    }
  } finally {
    await fh.close();
  }
  async function* chunks(info: ZipEntryInfo, start = 0): AsyncGenerator<Buffer> {
    const e = entries.find((x) => x.name === info.name && x.localHeaderOffset === info.localHeaderOffset)!;
    if (e.method !== 0 && e.method !== 8) throw new ZipEntryError(`${path}:${e.name}: unsupported zip compression method ${e.method}`, e.name, 0);
    if (e.compressedPresent <= 0) throw new ZipEntryError(`${path}:${e.name}: the zip is cut short before this entry's data (zip byte offset ${e.dataStart})`, e.name, 0);
    const raw = createReadStream(path, { start: e.dataStart, end: e.dataStart + e.compressedPresent - 1, highWaterMark: 1 << 16 });
    // A cut entry's declared size may be more than is there: no limit but the bytes present.
    const { bytes: pos } = yield* entryBytes(path, e, raw, e.dataStart, start, e.cut ? Infinity : e.size);
    if (e.cut) throw new ZipEntryError(`${path}:${e.name}: the zip is cut short inside this entry at byte offset ${pos} of the entry (zip byte offset ${e.dataStart + e.compressedPresent})`, e.name, pos);
  }
  return { path, entries, chunks, release: () => {}, retain: () => {}, cutAt };
}
