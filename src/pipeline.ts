/**
 * The capture -> ATT part of the pipeline, wired once for the CLI and for library users.
 * Data flows one way: capture reader -> AttExtractor -> (Victron decoder) -> outputs.
 */
import { openCapture, type CaptureReader } from './capture/index.js';
import type { ReadOptions } from './capture/types.js';
import { AttExtractor } from './bluetooth/index.js';
import { VictronDecoder, type VictronRecord } from './victron/index.js';
import type { ResolvedProfile } from './profiles/index.js';
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
        const pdu = extractor.pushOne(rec);
        if (pdu) out.push(pdu);
      }
      if (out.length) yield out;
    }
    extractor.finish();
  }
  return { reader, extractor, pdus, batches };
}

export interface DecodeScanOptions extends AttScanOptions {
  profiles: ResolvedProfile[];
  profile?: ResolvedProfile;
}

export interface DecodeScan {
  reader: CaptureReader;
  extractor: AttExtractor;
  decoder: VictronDecoder;
  /** Victron records in batches, in capture order; iterate once. */
  batches(): AsyncGenerator<VictronRecord[]>;
}

/** capture -> ATT -> Victron records. Connection events reach the decoder in order with the PDUs. */
export async function scanVictron(path: string, opts: DecodeScanOptions): Promise<DecodeScan> {
  const reader = await openCapture(path, opts);
  const events: BluetoothEvent[] = [];
  const extractor = new AttExtractor({
    onEvent: (e) => {
      events.push(e);
      opts.onEvent?.(e);
    },
  });
  const decoder = new VictronDecoder({ profiles: opts.profiles, profile: opts.profile, uuidOf: (c, d, h) => extractor.gattFor(c, d)?.uuidOf(h) });
  async function* batches(): AsyncGenerator<VictronRecord[]> {
    for await (const batch of reader.batches()) {
      const out: VictronRecord[] = [];
      for (const rec of batch) {
        const pdu = extractor.pushOne(rec);
        if (events.length) {
          for (const e of events) for (const r of decoder.pushEvent(e)) out.push(r);
          events.length = 0;
        }
        if (pdu) for (const r of decoder.pushAtt(pdu)) out.push(r);
      }
      if (out.length) yield out;
    }
    extractor.finish();
    const tail = decoder.finish();
    if (tail.length) yield tail;
  }
  return { reader, extractor, decoder, batches };
}
