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
}

export async function scanAtt(path: string, opts: AttScanOptions = {}): Promise<AttScan> {
  const reader = await openCapture(path, opts);
  const extractor = new AttExtractor({ onEvent: opts.onEvent });
  async function* pdus(): AsyncGenerator<AttPdu> {
    for await (const rec of reader.records()) {
      const out = extractor.push(rec);
      for (let i = 0; i < out.length; i++) yield out[i]!;
    }
    extractor.finish();
  }
  return { reader, extractor, pdus };
}
