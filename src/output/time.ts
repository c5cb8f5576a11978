/** ISO 8601 UTC with microseconds, e.g. 2020-11-23T19:14:08.286209Z (the NDJSON `time` format). */
export function isoTimeUs(timeUs: number): string {
  const ms = Math.floor(timeUs / 1000);
  const us = timeUs - ms * 1000;
  const iso = new Date(ms).toISOString(); // ...T19:14:08.286Z
  return `${iso.slice(0, -1)}${String(us).padStart(3, '0')}Z`;
}
