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
 * The link fields every NDJSON record shares, in the contract's order, from `,"time":` on:
 * time, connection, session (when known), device (when known), direction.
 */
export function writeLinkFields(w: LineWriter, r: { timeUs: number; connection: number; session?: number; device?: string; direction: string }): void {
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
