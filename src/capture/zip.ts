/**
 * Android bug report zips (`adb bugreport`), read with yauzl: the central directory is read once,
 * each entry is streamed (inflated by our own zlib stream, so a damaged entry says at which
 * compressed byte it broke); the zip is never held in memory.
 */
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

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

export const ZIP_MAGIC = 0x504b0304;

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
    const inflate = info.method === 8 ? zlib.createInflateRaw() : undefined;
    // CRC-32 (Node >= 20.15): catches damage that still inflates (yauzl does not check it).
    const crc32 = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
    let crc = 0;
    const stream: Readable = inflate ? raw.pipe(inflate) : raw;
    if (inflate) raw.on('error', (err) => inflate.destroy(err));
    let pos = 0;
    try {
      for await (const c of stream as AsyncIterable<Buffer>) {
        if (crc32) crc = crc32(c, crc);
        const end = pos + c.length;
        // Bounded: an entry never inflates past the size its header declares (a crafted zip could).
        if (end > info.size) throw new ZipEntryError(`${path}:${info.name}: inflates past its declared ${info.size} bytes at byte offset ${info.size} of the entry; stopped there`, info.name, pos);
        if (end > start) yield pos >= start ? c : c.subarray(start - pos);
        pos = end;
      }
    } catch (err) {
      if (err instanceof ZipEntryError) throw err;
      const consumed = inflate ? inflate.bytesWritten : pos;
      const why = /unexpected end/i.test((err as Error).message) ? 'deflate data cut short' : (err as Error).message;
      throw new ZipEntryError(
        `${path}:${info.name}: ${why} at byte offset ${pos} of the entry (zip byte offset ${dataStart + consumed})`,
        info.name,
        pos,
      );
    } finally {
      raw.destroy();
      inflate?.destroy();
    }
    if (crc32 && pos === info.size && crc >>> 0 !== e.crc32 >>> 0) {
      throw new ZipEntryError(`${path}:${info.name}: CRC-32 mismatch over the entry's ${pos} bytes: its data is corrupt somewhere (records may be wrong)`, info.name, pos);
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
