/**
 * `vgatt adverts <capture> [--key ADDRESS=HEX ...] [--keys keys.json] [--format text|ndjson|csv]`:
 * Victron Instant Readout advertisements, decrypted with the keys given or read by the app from
 * register 0xEC65 in the same capture (a first pass over the GATT traffic), one record per advert.
 */
import { readFileSync } from 'node:fs';
import { captureAdvertKeys, scanReadouts } from '../pipeline.js';
import { normalizeAddress, parseKey, type AdvertKey, type CaptureKeys, type InstantReadout } from '../adverts/readout.js';
import { ReadoutReportBuilder, type ReadoutDeviceReport } from '../report/readout.js';
import { loadProfiles } from '../profiles/index.js';
import { LineWriter } from '../output/writer.js';
import { Progress } from '../output/progress.js';
import { READOUT_CSV_HEADER, READOUT_TEXT_HEADER, ReadoutTextFolder, readoutToCsv, readoutToNdjson } from '../output/adverts.js';
import type { CaptureWarning } from '../capture/types.js';

export type AdvertsFormat = 'text' | 'ndjson' | 'csv';

export interface AdvertsOptions {
  format: AdvertsFormat;
  /** "ADDRESS=HEX" items of --key. */
  key: string[];
  /** --keys files: { "address": "hex key" }. */
  keys: string[];
  /** Read keys from the capture's own GATT traffic (default true). */
  captureKeys: boolean;
  verbose: boolean;
}

/** A problem with --key / --keys: one line, exit status 1. */
export class KeyOptionError extends Error {}

function addKey(map: Map<string, AdvertKey>, address: string, hex: string, source: string, where: string): void {
  const a = normalizeAddress(address);
  if (!a) throw new KeyOptionError(`${where}: '${address}' is not a Bluetooth address (aa:bb:cc:dd:ee:ff)`);
  const k = parseKey(String(hex));
  if (!k) throw new KeyOptionError(`${where}: the key for ${a} is not 32 hex digits (16 bytes)`);
  map.set(a, { key: k, source });
}

/** The keys given on the command line and in keys files, by address. Never echoes a key. */
export function parseKeyOptions(key: string[], files: string[]): Map<string, AdvertKey> {
  const map = new Map<string, AdvertKey>();
  for (const f of files) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new KeyOptionError(`${f}: ${err.code === 'ENOENT' ? 'no such file' : err instanceof SyntaxError ? `not valid JSON: ${err.message}` : err.message}`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new KeyOptionError(`${f}: expected an object { "aa:bb:cc:dd:ee:ff": "32 hex digits" }`);
    for (const [addr, hex] of Object.entries(data)) {
      if (typeof hex !== 'string') throw new KeyOptionError(`${f}: the key for '${addr}' is not a string`);
      addKey(map, addr, hex, f, f);
    }
  }
  for (const item of key) {
    const eq = item.lastIndexOf('=');
    if (eq < 0) throw new KeyOptionError(`--key ${item.includes(' ') ? `'${item}'` : item.slice(0, 17)}: expected ADDRESS=HEX (e.g. --key aa:bb:cc:dd:ee:ff=00112233445566778899aabbccddeeff)`);
    addKey(map, item.slice(0, eq), item.slice(eq + 1), '--key', `--key ${item.slice(0, eq)}`);
  }
  return map;
}

function warn(msg: string): void {
  process.stderr.write(`vgatt: warning: ${msg}\n`);
}

export async function runAdverts(files: string[], opts: AdvertsOptions): Promise<number> {
  const file = files.join(', ');
  const keys = parseKeyOptions(opts.key, opts.keys);
  const warnings: CaptureWarning[] = [];
  const progress = new Progress(`reading ${file}`);
  const onWarning = (w: CaptureWarning) => {
    progress.done();
    warnings.push(w);
  };
  const onProgress = (done: number, total: number) => progress.update(done, total);
  const captured = opts.captureKeys ? await captureAdvertKeys(files, { profiles: loadProfiles(), onProgress, onWarning: () => {} }) : undefined;
  progress.done();
  const scan = await scanReadouts(files, { keys, captureKeys: captured?.keys, onWarning, onProgress });
  const out = new LineWriter(process.stdout);
  const folder = opts.format === 'text' ? new ReadoutTextFolder() : undefined;
  if (opts.format === 'csv') out.add(READOUT_CSV_HEADER);
  if (opts.format === 'text') out.add(READOUT_TEXT_HEADER);
  const counts = new Map<string, number>();
  const devices = new Set<string>();
  const fromCapture = new Map<string, string>();
  let total = 0;
  const count = (r: InstantReadout) => {
    total++;
    devices.add(r.device);
    const k = r.decoded ? 'decoded' : (r.reason ?? 'not decoded');
    counts.set(k, (counts.get(k) ?? 0) + 1);
    if (r.keySource?.startsWith('frame ')) fromCapture.set(r.device, r.keySource);
  };
  for await (const batch of scan.batches()) {
    for (const r of batch) {
      count(r);
      if (folder) for (const l of folder.push(r)) out.add(l);
      else out.add(opts.format === 'ndjson' ? readoutToNdjson(r) : readoutToCsv(r));
    }
    await out.maybeFlush();
    if (out.closed) break;
  }
  if (folder) for (const l of folder.finish()) out.add(l);
  await out.flush();
  progress.done();
  for (const w of warnings) warn(w.message);
  for (const p of scan.adverts.problems.slice(0, opts.verbose ? Infinity : 5)) warn(`frame ${p.frame}: ${p.message}`);
  if (!opts.verbose && scan.adverts.problems.length > 5) warn(`${scan.adverts.problems.length - 5} more damaged advertising report event(s); run with --verbose to list them`);
  if (!out.closed) {
    const parts = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
    if (total === 0) process.stderr.write(`no Victron advert in ${scan.stats.adverts} advert(s) from ${scan.stats.devices.size} device(s)\n`);
    else if (opts.format === 'text') process.stderr.write(`${total} Victron advert(s) from ${devices.size} device(s): ${parts}\n`);
    for (const [d, src] of fromCapture) process.stderr.write(`key for ${d} taken from ${src} (register 0xEC65 read by the app)\n`);
    if ((counts.get('no key') ?? 0) > 0 && opts.format === 'text') process.stderr.write(`adverts without a key: give --key ADDRESS=HEX or --keys keys.json (the key is in VictronConnect: product info, "Instant readout encryption data")\n`);
  }
  return scan.reader.complete && (captured?.complete ?? true) ? 0 : 2;
}

/** The report's Instant Readout section: an advert pass over the captures with the keys known so far. */
export async function instantReadoutReport(files: string[], keys: Map<string, AdvertKey>, captureKeys: CaptureKeys): Promise<ReadoutDeviceReport[]> {
  const scan = await scanReadouts(files, { keys, captureKeys, onWarning: () => {} });
  const b = new ReadoutReportBuilder();
  for await (const batch of scan.batches()) for (const r of batch) b.add(r);
  return b.build();
}
