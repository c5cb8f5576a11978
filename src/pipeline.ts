/**
 * The capture -> ATT part of the pipeline, wired once for the CLI and for library users.
 * Data flows one way: capture reader -> AttExtractor -> (Victron decoder) -> outputs.
 * A run reads one or several inputs (a bug report zip can hold two logs): their captures are read
 * in order through the same stages, so a session that Android's log rotation split goes on.
 */
import { openCaptureSet, type CaptureReader, type CaptureSet } from './capture/index.js';
import { HciPacketType, type HciRecord, type ReadOptions } from './capture/types.js';
import { AdvertParser } from './adverts/index.js';
import { CaptureKeys, ReadoutDecoder, type InstantReadout, type ReadoutOptions } from './adverts/readout.js';
import { MAX_BATCH } from './capture/source.js';
import { AttExtractor } from './bluetooth/index.js';
import { VictronDecoder, type VictronRecord } from './victron/index.js';
import type { ResolvedProfile } from './profiles/index.js';
import type { AttPdu, BluetoothEvent } from './bluetooth/types.js';

export interface AttScanOptions extends ReadOptions {
  onEvent?: (e: BluetoothEvent) => void;
  /** Every HCI record as it is read (before the ATT layer), e.g. for `vgatt doctor`'s counts. */
  onRecord?: (rec: HciRecord, input: CaptureReader) => void;
}

export interface AttScan {
  /** The captures of the run (one per input file, or per snoop log in a bug report zip). */
  reader: CaptureSet;
  extractor: AttExtractor;
  /** Every ATT PDU of the capture in order; iterate once. */
  pdus(): AsyncGenerator<AttPdu>;
  /** The same PDUs in batches (fewer awaits: use for large captures). */
  batches(): AsyncGenerator<AttPdu[]>;
}

/**
 * A record a stage cannot read (an exception: a bug met by odd bytes) must not end the run and lose
 * the records after it: it is damage at the record's offset (exit 2), and the next record goes on.
 */
function unreadable(set: CaptureSet, rec: HciRecord, e: unknown): void {
  const err = e as Error;
  set.warn({ code: 'bad-record', message: `frame ${rec.frame} at byte offset ${rec.fileOffset} could not be decoded (${err?.message ?? String(e)}); skipped`, fileOffset: rec.fileOffset, frame: rec.frame, ...(err?.stack ? { detail: err.stack } : {}) });
}

/** The first record's time of each capture, for the extractor's file boundaries. */
function firstTime(batch: HciRecord[]): number | undefined {
  return batch.length ? batch[0]!.timeUs : undefined;
}

/** HCI batches of every capture in order; `onFile` runs before each capture's first batch. */
async function* hciBatches(set: CaptureSet, onFile: (input: CaptureReader, first: number | undefined, index: number) => void, onRecord?: AttScanOptions['onRecord']): AsyncGenerator<HciRecord[]> {
  for (let i = 0; i < set.readers.length; i++) {
    const input = set.readers[i]!;
    let started = false;
    set.current = input;
    for await (const batch of input.batches()) {
      if (!started) {
        started = true;
        onFile(input, firstTime(batch), i);
      }
      if (onRecord) for (const r of batch) onRecord(r, input);
      yield batch;
    }
    if (!started) onFile(input, undefined, i);
  }
}

export async function scanAtt(paths: string | string[], opts: AttScanOptions = {}): Promise<AttScan> {
  const reader = await openCaptureSet(paths, opts);
  const extractor = new AttExtractor({ onEvent: opts.onEvent });
  const onFile = (input: CaptureReader, first: number | undefined, i: number) => {
    if (i > 0) extractor.nextFile(reader.multi ? input.path : undefined, first);
    else if (reader.multi) extractor.file = input.path;
  };
  async function* pdus(): AsyncGenerator<AttPdu> {
    for await (const batch of hciBatches(reader, onFile, opts.onRecord)) {
      const out: AttPdu[] = [];
      for (const rec of batch) {
        try {
          const got = extractor.push(rec);
          for (let i = 0; i < got.length; i++) out.push(got[i]!);
        } catch (e) {
          unreadable(reader, rec, e);
        }
      }
      yield* out;
    }
    extractor.finish();
  }
  async function* batches(): AsyncGenerator<AttPdu[]> {
    for await (const batch of hciBatches(reader, onFile, opts.onRecord)) {
      const out: AttPdu[] = [];
      for (const rec of batch) {
        try {
          const pdu = extractor.pushOne(rec);
          if (pdu) out.push(pdu);
        } catch (e) {
          unreadable(reader, rec, e);
        }
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
  reader: CaptureSet;
  extractor: AttExtractor;
  decoder: VictronDecoder;
  /** Victron records in batches, in capture order; iterate once. */
  batches(): AsyncGenerator<VictronRecord[]>;
}

/** capture -> ATT -> Victron records. Connection events reach the decoder in order with the PDUs. */
export async function scanVictron(paths: string | string[], opts: DecodeScanOptions): Promise<DecodeScan> {
  const reader = await openCaptureSet(paths, opts);
  const events: BluetoothEvent[] = [];
  const extractor = new AttExtractor({
    onEvent: (e) => {
      events.push(e);
      opts.onEvent?.(e);
    },
  });
  const decoder = new VictronDecoder({ profiles: opts.profiles, profile: opts.profile, uuidOf: (c, d, h) => extractor.gattFor(c, d)?.uuidOf(h) });
  let file: string | undefined;
  const tag = (out: VictronRecord[]) => {
    if (file !== undefined) for (const r of out) r.file ??= file;
  };
  async function* batches(): AsyncGenerator<VictronRecord[]> {
    const boundary: VictronRecord[] = [];
    const onFile = (input: CaptureReader, first: number | undefined, i: number) => {
      if (i > 0) {
        // Sessions the file gap ends are closed in the previous file (their records carry its name).
        extractor.nextFile(reader.multi ? input.path : undefined, first);
        for (const e of events) for (const r of decoder.pushEvent(e)) boundary.push(r);
        events.length = 0;
        tag(boundary);
      }
      if (reader.multi) file = decoder.file = input.path;
      if (i === 0 && reader.multi) extractor.file = input.path;
    };
    for await (const batch of hciBatches(reader, onFile, opts.onRecord)) {
      let out: VictronRecord[] = boundary.length ? boundary.splice(0) : [];
      let start = out.length;
      for (const rec of batch) {
        try {
          const pdu = extractor.pushOne(rec);
          if (events.length) {
            for (const e of events) for (const r of decoder.pushEvent(e)) out.push(r);
            events.length = 0;
          }
          if (pdu) decoder.pushAtt(pdu, out);
        } catch (e) {
          events.length = 0;
          unreadable(reader, rec, e);
        }
        // Small batches (see MAX_BATCH): records are written and dropped while still young.
        if (out.length >= MAX_BATCH) {
          if (file !== undefined) for (let i = start; i < out.length; i++) out[i]!.file ??= file;
          yield out;
          out = [];
          start = 0;
        }
      }
      if (file !== undefined) for (let i = start; i < out.length; i++) out[i]!.file ??= file;
      if (out.length) yield out;
    }
    extractor.finish();
    const tail = [...boundary.splice(0), ...decoder.finish()];
    tag(tail);
    if (tail.length) yield tail;
  }
  return { reader, extractor, decoder, batches };
}

/**
 * The keys the app read from the devices in a capture (register 0xEC65 values), from a decode pass.
 * Also says whether the capture has any Victron traffic at all.
 */
export async function captureAdvertKeys(paths: string | string[], opts: DecodeScanOptions): Promise<{ keys: CaptureKeys; complete: boolean }> {
  const scan = await scanVictron(paths, opts);
  const keys = new CaptureKeys();
  for await (const batch of scan.batches()) for (const r of batch) keys.add(r);
  return { keys, complete: scan.reader.complete };
}

export interface ReadoutScanOptions extends ReadOptions, ReadoutOptions {}

export interface ReadoutScan {
  reader: CaptureSet;
  adverts: AdvertParser;
  /** Every advert (Victron or not) is counted here as it streams by. */
  stats: { adverts: number; devices: Set<string> };
  /** Victron adverts as Instant Readout records, in batches; iterate once. */
  batches(): AsyncGenerator<InstantReadout[]>;
}

/**
 * capture(s) -> LE advertising reports -> Victron Instant Readout records (decrypted when a key is
 * known). With several captures, records carry their capture's name (`file`) and its frame numbers.
 */
export async function scanReadouts(paths: string | string[], opts: ReadoutScanOptions = {}): Promise<ReadoutScan> {
  const reader = await openCaptureSet(paths, opts);
  const adverts = new AdvertParser();
  const decoder = new ReadoutDecoder(opts);
  const stats = { adverts: 0, devices: new Set<string>() };
  async function* batches(): AsyncGenerator<InstantReadout[]> {
    for (const input of reader.readers) {
      for await (const batch of input.batches()) {
        const out: InstantReadout[] = [];
        for (const rec of batch) {
          if (rec.packetType !== HciPacketType.Event) continue;
          for (const a of adverts.push(rec)) {
            stats.adverts++;
            stats.devices.add(a.address);
            const r = decoder.push(a);
            if (!r) continue;
            if (reader.multi) r.file = input.path;
            out.push(r);
          }
        }
        if (out.length) yield out;
      }
    }
  }
  return { reader, adverts, stats, batches };
}
