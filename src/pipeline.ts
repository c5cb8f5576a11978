/**
 * The capture -> ATT part of the pipeline, wired once for the CLI and for library users.
 * Data flows one way: capture reader -> AttExtractor -> (Victron decoder) -> outputs.
 */
import { openCapture, type CaptureReader } from './capture/index.js';
import type { ReadOptions } from './capture/types.js';
import { AttExtractor } from './bluetooth/index.js';
import type { AttPdu, BluetoothEvent } from './bluetooth/types.js';

export interface AttScanOptions extends ReadOptions {
  onEvent?: (e: BluetoothEvent) => void;
}

export interface AttScan {
  reader: CaptureReader;
  extractor: AttExtractor;
  /** Every ATT PDU of the capture in order; iterate once. */
  pdus(): AsyncGenerator<AttPdu>;
  /** The same PDUs in batches (fewer awaits: use for large captures). */
  batches(): AsyncGenerator<AttPdu[]>;
}

export async function scanAtt(path: string, opts: AttScanOptions = {}): Promise<AttScan> {
  const reader = await openCapture(path, opts);
  const extractor = new AttExtractor({ onEvent: opts.onEvent });
  async function* pdus(): AsyncGenerator<AttPdu> {
    for await (const batch of reader.batches()) {
      const out: AttPdu[] = [];
      for (const rec of batch) {
        const got = extractor.push(rec);
        for (let i = 0; i < got.length; i++) out.push(got[i]!);
      }
      yield* out;
    }
    extractor.finish();
  }
  async function* batches(): AsyncGenerator<AttPdu[]> {
    for await (const batch of reader.batches()) {
      const out: AttPdu[] = [];
      for (const rec of batch) {
        const got = extractor.push(rec);
        for (let i = 0; i < got.length; i++) out.push(got[i]!);
      }
      if (out.length) yield out;
    }
    extractor.finish();
  }
  return { reader, extractor, pdus, batches };
}
