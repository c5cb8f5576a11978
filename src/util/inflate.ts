/**
 * zlib/deflate decompression with an output cap, for every place that inflates capture data
 * (Victron path lists, Android bug report zips and btsnooz summaries): a few KB of crafted input
 * can inflate to gigabytes, so the output is bounded and what was cut is reported, never silent.
 */
import { constants, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';

/** The default cap: far more than any path list or snoop summary a device or phone writes. */
export const DEFAULT_INFLATE_CAP = 1 << 20;

export interface InflateResult {
  /** What inflated, at most `cap` bytes (a prefix of the whole output when `problem` is set). */
  data: Uint8Array;
  /** Set when the output was cut: more than `cap` bytes (`cut`), or bad/short data (`error`). */
  problem?: {
    kind: 'cut' | 'error';
    /** One line: what happened, the input offset, and how much was kept. */
    message: string;
    /** Offset in the input where inflating stopped (about: zlib reads ahead a little). */
    inputOffset: number;
    /** zlib's own words for an error (e.g. "unexpected end of file"). */
    reason?: string;
  };
}

/**
 * Inflates `input` (`format` 'zlib' with header, 'raw' deflate as in zip entries) to at most `cap`
 * bytes. Synchronous, and never throws. When the whole output does not fit or the data is bad, the
 * longest input prefix that inflates within the cap is found by bisection (zlib with Z_SYNC_FLUSH
 * gives a prefix of the output for a prefix of the input; Node's sync API keeps nothing of a failed
 * call), so the bytes before the cut or the damage are kept. Cost: O(log n) inflates of at most
 * `cap` bytes each.
 */
export function inflateCapped(input: Uint8Array, cap = DEFAULT_INFLATE_CAP, format: 'zlib' | 'raw' = 'zlib'): InflateResult {
  const run = format === 'raw' ? inflateRawSync : inflateSync;
  const attempt = (n: number, opts: ZlibOptions): Buffer | Error => {
    try {
      return run(input.subarray(0, n), { ...opts, maxOutputLength: Math.max(1, cap) });
    } catch (e) {
      return e as Error;
    }
  };
  const whole = attempt(input.length, {});
  if (!(whole instanceof Error)) return { data: whole };
  const tooLarge = (whole as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
  // Longest prefix that inflates (sync flush: a cut input is not an error) within the cap.
  let lo = 0;
  let hi = input.length;
  let best: Buffer = Buffer.alloc(0);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const r = attempt(mid, { finishFlush: constants.Z_SYNC_FLUSH });
    if (r instanceof Error) hi = mid - 1;
    else {
      lo = mid;
      best = r;
    }
  }
  const message = tooLarge
    ? `inflates to more than ${cap} bytes: the first ${best.length} kept, the rest (from compressed byte offset ${lo}) cut`
    : `${whole.message.replace(/\.$/, '')} at compressed byte offset ${lo}; ${best.length} byte(s) inflated before it`;
  return { data: best, problem: { kind: tooLarge ? 'cut' : 'error', message, inputOffset: lo, ...(tooLarge ? {} : { reason: whole.message }) } };
}
