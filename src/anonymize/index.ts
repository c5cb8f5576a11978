/**
 * `vgatt anonymize`: a copy of a capture, in its own format, with device addresses, serial
 * numbers and secrets replaced by same-length stand-ins, every other byte kept.
 *
 * The output is the input file byte for byte (headers, every pcapng block and option, padding,
 * timestamps), with patches at the offsets the locator found, so it is the same format by
 * construction and needs no writer. Three reads of the input: learn the originals, locate every
 * occurrence through the decoding layers, then copy with the patches applied and a last sweep
 * of the raw bytes for the known values (it also catches them in places no layer decodes, e.g.
 * pcapng comments). A damaged input is copied up to the end of its last complete record.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import { CaptureError, detectCaptureFormat, openCapture, type CaptureInfo, type CaptureWarning, type ReadOptions } from '../capture/index.js';
import { AttExtractor, type BluetoothEvent } from '../bluetooth/index.js';
import { VictronDecoder } from '../victron/index.js';
import type { ResolvedProfile } from '../profiles/index.js';
import { Locator, type LocateWarning, type Patch } from './locate.js';
import { StandIns, type MappingEntry } from './standins.js';

export { StandIns, type MappingEntry, type SecretCategory } from './standins.js';
export { Locator, subSegments, type Patch, type Segments } from './locate.js';
export { SENSITIVE_REGISTERS, SERIAL_PATTERN } from './registers.js';

export interface AnonymizeOptions extends ReadOptions {
  profiles: ResolvedProfile[];
  profile?: ResolvedProfile;
  /** Derive the stand-ins from this string instead of a random key (reproducible output). */
  seed?: string;
  /** Called as each of the three passes starts (1-3), for progress display. */
  onPass?: (pass: number, label: string) => void;
}

export interface AnonymizeResult {
  info: CaptureInfo;
  /** False when the input was damaged: the output holds its complete records only. */
  complete: boolean;
  /** Bytes written (the input's size, or the end of its last complete record). */
  bytesWritten: number;
  warnings: CaptureWarning[];
  /** Values that could not be located (the capture's layers did not map back to the file). */
  locateWarnings: LocateWarning[];
  mapping: MappingEntry[];
  counts: { addresses: number; serials: number; secrets: number; places: number; bytesChanged: number };
}

/** One read of the capture through HCI -> ATT -> Victron, showing every layer to the locator. */
async function locatePass(path: string, locator: Locator, opts: AnonymizeOptions, readOpts: ReadOptions) {
  const reader = await openCapture(path, readOpts);
  const events: BluetoothEvent[] = [];
  const extractor = new AttExtractor({ onEvent: (e) => events.push(e) });
  const decoder = new VictronDecoder({ profiles: opts.profiles, profile: opts.profile, uuidOf: (c, d, h) => extractor.gattFor(c, d)?.uuidOf(h) });
  let lastFrame = 0;
  for await (const batch of reader.batches()) {
    for (const rec of batch) {
      lastFrame = rec.frame;
      locator.hci(rec);
      const pdu = extractor.pushOne(rec);
      if (events.length) {
        for (const e of events) for (const r of decoder.pushEvent(e)) locator.victron(r);
        events.length = 0;
      }
      if (pdu) {
        locator.att(pdu);
        for (const r of decoder.pushAtt(pdu)) locator.victron(r);
      }
    }
    locator.release(decoder.oldestPendingFrame(), lastFrame);
  }
  extractor.finish();
  for (const e of events) for (const r of decoder.pushEvent(e)) locator.victron(r);
  for (const r of decoder.finish()) locator.victron(r);
  return reader;
}

/** Applies the bytes of `patches` (sorted by offset) that fall in [base, base + limit); returns the first patch not wholly applied. */
function applyPatches(buf: Buffer, base: number, limit: number, patches: Patch[], from: number): number {
  let i = from;
  const end = base + limit;
  while (i < patches.length && patches[i]!.offset < end) {
    const p = patches[i]!;
    for (let k = 0; k < p.bytes.length; k++) {
      const at = p.offset + k - base;
      if (at >= 0 && at < limit) buf[at] = p.bytes[k]!;
    }
    if (p.offset + p.bytes.length > end) break; // the rest goes into the next buffer
    i++;
  }
  return i;
}

function sweepRaw(buf: Buffer, patterns: [Buffer, Uint8Array][]): void {
  for (const [pattern, standIn] of patterns) {
    for (let at = buf.indexOf(pattern); at >= 0; at = buf.indexOf(pattern, at + pattern.length)) buf.set(standIn, at);
  }
}

const CHUNK = 1 << 20;

/** Writes bytes [0, end) of `input` to `output` with the patches and the raw sweep; returns the bytes changed. */
async function copyWithPatches(input: string, output: string, end: number, patches: Patch[], patterns: [Buffer, Uint8Array][]): Promise<number> {
  const tmp = `${output}.vgatt-${process.pid}.tmp`;
  const src = await open(input, 'r');
  let changed = 0;
  try {
    const dst = await open(tmp, 'w').catch((e: NodeJS.ErrnoException) => {
      throw new Error(`cannot write ${output}: ${e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.message}`);
    });
    try {
      // The last `keep` bytes of a chunk are held back, so a value across two chunks is swept whole.
      const keep = Math.max(0, ...patterns.map(([p]) => p.length - 1));
      let carry = Buffer.alloc(0);
      let carryOrig = Buffer.alloc(0);
      let carryBase = 0;
      let next = 0;
      for (let pos = 0; pos < end; ) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, end - pos));
        const { bytesRead } = await src.read(chunk, 0, chunk.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const data = chunk.subarray(0, bytesRead);
        const orig = Buffer.concat([carryOrig, data]);
        const buf = Buffer.concat([carry, data]);
        sweepRaw(buf, patterns);
        const cut = pos >= end ? buf.length : Math.max(0, buf.length - keep);
        next = applyPatches(buf, carryBase, cut, patches, next);
        for (let i = 0; i < cut; i++) if (buf[i] !== orig[i]) changed++;
        await dst.write(buf, 0, cut);
        carry = Buffer.from(buf.subarray(cut));
        carryOrig = Buffer.from(orig.subarray(cut));
        carryBase += cut;
      }
      if (carry.length) await dst.write(carry);
    } finally {
      await dst.close();
    }
    await rename(tmp, output);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    await src.close();
  }
  return changed;
}

/**
 * Only a capture file itself can be patched in place: a bug report zip (or its text dump's btsnooz
 * summary) holds the log compressed or re-encoded, and much more personal data besides.
 */
async function checkPlainCapture(input: string): Promise<void> {
  let head = Buffer.alloc(0);
  // Anonymizing reads the input three times (find, locate, copy): a pipe can be read only once.
  const st = await stat(input).catch(() => undefined);
  if (input === '-' || (st && !st.isFile() && !st.isDirectory())) throw new CaptureError(`${input}: anonymize reads its input several times, which a pipe or standard input cannot give; save it to a file first`, 0);
  try {
    const fh = await open(input, 'r');
    try {
      head = Buffer.alloc(16);
      const { bytesRead } = await fh.read(head, 0, 16, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return; // openCapture gives the one-line error
  }
  if (detectCaptureFormat(head)) return;
  const zip = head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b;
  throw new CaptureError(
    `${input}: anonymize rewrites btsnoop, pcap and pcapng files only` +
      (zip ? '; for an Android bug report, extract FS/data/misc/bluetooth/logs/btsnoop_hci.log and anonymize that (never share the bug report itself: it holds far more personal data)' : ''),
    0,
  );
}

export async function anonymizeCapture(input: string, output: string, opts: AnonymizeOptions): Promise<AnonymizeResult> {
  await checkPlainCapture(input);
  const standIns = new StandIns(opts.seed);
  const locator = new Locator(standIns);
  opts.onPass?.(1, 'finding identifying values');
  const first = await locatePass(input, locator, opts, opts);
  locator.beginPatch();
  opts.onPass?.(2, 'locating them');
  // Warnings and progress were reported by the first pass.
  const second = await locatePass(input, locator, opts, {});
  const end = second.bytesRead;
  if (locator.unplaced > 0) throw new Error(`${input}: ${locator.unplaced} record(s) have no place in the file (not a plain capture file); nothing written`);
  const patches = locator.patches.sort((a, b) => a.offset - b.offset);
  opts.onPass?.(3, `writing ${output}`);
  const bytesChanged = await copyWithPatches(input, output, end, patches, locator.patterns());
  const mapping = standIns.entries();
  return {
    info: first.info,
    complete: first.complete,
    bytesWritten: end,
    warnings: first.warnings,
    locateWarnings: locator.warnings,
    mapping,
    counts: {
      addresses: mapping.filter((m) => m.category === 'address').length,
      serials: mapping.filter((m) => m.category === 'serial').length,
      secrets: mapping.filter((m) => m.category === 'bytes' || m.category === 'text').length,
      places: locator.places,
      bytesChanged,
    },
  };
}
