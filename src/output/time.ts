import type { LineWriter } from './writer.js';

let cachedSecond = NaN;
let cachedPrefix = '';

/**
 * ISO 8601 UTC with microseconds, e.g. 2020-11-23T19:14:08.286209Z (the NDJSON `time` format); empty
 * for a time no date can show (beyond ±275,760 years: a damaged record, which the reader warns about).
 */
export function isoTimeUs(timeUs: number): string {
  if (!(Math.abs(timeUs) <= 8.64e18)) return '';
  const sec = Math.floor(timeUs / 1_000_000);
  // Date formatting is slow; captures have many packets per second, so cache the second's prefix.
  if (sec !== cachedSecond) {
    cachedSecond = sec;
    cachedPrefix = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  const frac = timeUs - sec * 1_000_000;
  return `${cachedPrefix}.${frac < 100000 ? String(frac).padStart(6, '0') : frac}Z`;
}

/** ISO 8601 UTC of a time in milliseconds (2020-11-23T19:14:08.286Z); empty when no date can show it (see isoTimeUs). */
export function isoTimeMs(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : '';
}

/** The same text as isoTimeUs(), written into `w` without making a string. */
export function writeIsoTimeUs(w: LineWriter, timeUs: number): void {
  const sec = Math.floor(timeUs / 1_000_000);
  const frac = timeUs - sec * 1_000_000;
  // Times no date can show, or too large for whole microseconds: the string version says what to print.
  if (!(Math.abs(timeUs) <= 8.64e18) || !Number.isInteger(frac) || frac < 0 || frac >= 1_000_000) return w.utf8(isoTimeUs(timeUs));
  if (sec !== cachedSecond) {
    cachedSecond = sec;
    cachedPrefix = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  w.ascii(cachedPrefix);
  w.ascii('.');
  w.padded(frac, 6);
  w.ascii('Z');
}

/**
 * `,"time":"2020-11-23T19:14:08.` and six digits of microseconds, which writeTimeKey() fills in: the
 * second's part is encoded once per second, and the whole is one copy into the writer (which copies
 * it at once) instead of a copy and the writer's digit loop.
 */
let cachedTimeKeySecond = NaN;
let cachedTimeKey = Buffer.alloc(0);

/** Whether `n` is a 16-bit unsigned integer, as connection handles, ATT handles and registers are: what the NDJSON writers' caches are keyed by. */
export const isU16 = (n: number | undefined): boolean => Number.isInteger(n) && n! >= 0 && n! < 0x1_0000;

/** Whether writeTimeKey() can write `timeUs`: whole microseconds that a date can show (every time a capture reader gives). */
export function isPlainTimeUs(timeUs: number): boolean {
  const frac = timeUs - Math.floor(timeUs / 1_000_000) * 1_000_000;
  return Math.abs(timeUs) <= 8.64e18 && Number.isInteger(frac) && frac >= 0 && frac < 1_000_000;
}

/** `,"time":"2020-11-23T19:14:08.286209` of a time isPlainTimeUs() accepts; the closing `Z"` starts the link fields (linkFieldsText). */
export function writeTimeKey(w: LineWriter, timeUs: number): void {
  const sec = Math.floor(timeUs / 1_000_000);
  if (sec !== cachedTimeKeySecond) {
    cachedTimeKeySecond = sec;
    cachedTimeKey = Buffer.from(`,"time":"${new Date(sec * 1000).toISOString().slice(0, 19)}.000000`, 'latin1');
  }
  const k = cachedTimeKey;
  let v = timeUs - sec * 1_000_000;
  for (let i = k.length - 1; i >= k.length - 6; i--) {
    const q = (v / 10) | 0;
    k[i] = 0x30 + v - q * 10;
    v = q;
  }
  w.bytes(k);
}

export interface LinkFields {
  connection: number;
  session?: number;
  device?: string;
  direction: string;
}

/** What follows writeTimeKey() in every record of a link: `Z","connection":64,"session":1,"device":"…","direction":"host-to-device"`. */
export function linkFieldsText(r: LinkFields): string {
  const session = r.session !== undefined ? `,"session":${r.session}` : '';
  const device = r.device !== undefined ? `,"device":${JSON.stringify(r.device)}` : '';
  return `Z","connection":${r.connection}${session}${device},"direction":${JSON.stringify(r.direction)}`;
}

/** What a per-link cache entry was made for: an entry is made again when the link's session or device changes. */
export interface LinkKey {
  session?: number;
  device?: string;
  direction: string;
}

/**
 * The entry of `cache` for the link of `r` (connection handle and direction), made by `make(r)` when
 * there is none or it was made for another session, device or direction. Bounded: cleared at 4,096.
 */
export function linkEntry<T extends LinkKey>(cache: Map<number, T>, r: LinkFields, make: (r: LinkFields) => T): T {
  const key = r.connection * 4 + (r.direction === 'host-to-device' ? 0 : r.direction === 'device-to-host' ? 1 : 2);
  let e = cache.get(key);
  if (e === undefined || e.session !== r.session || e.device !== r.device || e.direction !== r.direction) {
    if (cache.size >= 4096) cache.clear();
    e = make(r);
    cache.set(key, e);
  }
  return e;
}

interface LinkBytes extends LinkKey {
  /** linkFieldsText(), encoded. */
  bytes: Buffer;
}
const linkBytes = (r: LinkFields): LinkBytes => ({ session: r.session, device: r.device, direction: r.direction, bytes: Buffer.from(linkFieldsText(r), 'utf8') });
/**
 * The link fields after the time, encoded once per link: they repeat on every record of a connection,
 * and writing them piece by piece was a good part of `vgatt att`'s time (issue 11).
 */
const linkCache = new Map<number, LinkBytes>();

/**
 * The link fields every NDJSON record shares, in the contract's order, from `,"time":` on:
 * time, connection, session (when known), device (when known), direction.
 */
export function writeLinkFields(w: LineWriter, r: LinkFields & { timeUs: number }): void {
  // The common case, from caches; odd values (times no date can show, connection numbers that are not
  // small integers) take the general path below.
  if (isU16(r.connection) && isPlainTimeUs(r.timeUs)) {
    writeTimeKey(w, r.timeUs);
    w.bytes(linkEntry(linkCache, r, linkBytes).bytes);
    return;
  }
  w.ascii(',"time":"');
  writeIsoTimeUs(w, r.timeUs);
  w.ascii('","connection":');
  w.uint(r.connection);
  if (r.session !== undefined) {
    w.ascii(',"session":');
    w.numText(r.session);
  }
  if (r.device !== undefined) {
    w.ascii(',"device":');
    w.jsonCached(r.device);
  }
  w.ascii(',"direction":"');
  w.ascii(r.direction);
  w.ascii('"');
}
