/**
 * Mutators for the fuzzer: byte-level (bit flips, interesting values, truncation), record-level
 * (duplicate or remove whole capture records), inflated length fields at every layer (capture
 * record, HCI ACL, L2CAP, CBOR heads) and CBOR-aware changes inside Victron values. The layout of
 * a seed (record places, ATT values on the Victron handles) is learned once by the library itself.
 */
import { readFileSync } from 'node:fs';
import { scanAtt } from '../src/pipeline.js';
import type { CaptureFormat } from '../src/capture/index.js';

/** A small, fast, seedable PRNG (mulberry32): a campaign is reproducible from its seed. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

export interface Seed {
  path: string;
  bytes: Uint8Array;
  format: CaptureFormat;
  /** [start, end) of every capture record in the file. */
  records: [number, number][];
  /** Byte offset of each record's HCI packet (after link framing). */
  hci: number[];
  /** Places (file offsets) of ATT values on the Victron characteristics (one ACL fragment each). */
  victronValues: [number, number][];
}

/** Where a capture format keeps each record's length fields, relative to the record start (little/big endian, width). */
const LENGTH_FIELDS: Partial<Record<CaptureFormat, { at: number; width: 2 | 4; be: boolean }[]>> = {
  btsnoop: [
    { at: 0, width: 4, be: true },
    { at: 4, width: 4, be: true },
  ],
  pcap: [
    { at: 8, width: 4, be: false },
    { at: 12, width: 4, be: false },
  ],
  pcapng: [
    { at: 4, width: 4, be: false },
    { at: 20, width: 4, be: false },
  ],
};

/** The other fields of a record header: timestamps and flags (the record layout of each format). */
const HEADER_FIELDS: Partial<Record<CaptureFormat, { at: number; width: 2 | 4; be: boolean }[]>> = {
  btsnoop: [
    { at: 8, width: 4, be: true },
    { at: 12, width: 4, be: true },
    { at: 16, width: 4, be: true },
    { at: 20, width: 4, be: true },
  ],
  pcap: [
    { at: 0, width: 4, be: false },
    { at: 4, width: 4, be: false },
  ],
  pcapng: [
    { at: 8, width: 4, be: false },
    { at: 12, width: 4, be: false },
    { at: 16, width: 4, be: false },
  ],
};

const VICTRON_UUIDS = new Set(['306b0002-b081-4037-83dc-e59fcc3cdfd0', '306b0003-b081-4037-83dc-e59fcc3cdfd0', '306b0004-b081-4037-83dc-e59fcc3cdfd0']);
const VICTRON_DEFAULT_HANDLES = new Set([0x21, 0x24, 0x27, 0x1b, 0x1e]);

/** Reads a seed and learns its layout through the library (records, HCI offsets, Victron values). */
export async function loadSeed(path: string): Promise<Seed | undefined> {
  // A plain Uint8Array: its slice() copies (a Buffer's would be a view, and mutations would pile up in the seed).
  const bytes = new Uint8Array(readFileSync(path));
  const hciAt = new Map<number, number>();
  const starts: number[] = [];
  const hci: number[] = [];
  const victronValues: [number, number][] = [];
  let all;
  try {
    all = await scanAtt(path, {
    onRecord: (r) => {
      starts.push(r.fileOffset);
      if (r.dataOffset !== undefined) {
        hciAt.set(r.frame, r.dataOffset);
        hci.push(r.dataOffset);
      }
    },
  });
  } catch {
    return undefined; // not a capture (README, expected.json)
  }
  for await (const batch of all.batches()) {
    for (const pdu of batch) {
      const onVictron = (pdu.uuid !== undefined && VICTRON_UUIDS.has(pdu.uuid)) || (pdu.uuid === undefined && pdu.handle !== undefined && VICTRON_DEFAULT_HANDLES.has(pdu.handle));
      if (!onVictron || !pdu.value || pdu.frames.length !== 1 || (pdu.opcode !== 0x1b && pdu.opcode !== 0x12 && pdu.opcode !== 0x52)) continue;
      const at = hciAt.get(pdu.frame);
      // ACL header 4, L2CAP header 4, ATT opcode + handle 3.
      if (at !== undefined && pdu.value.length > 0) victronValues.push([at + 11, at + 11 + pdu.value.length]);
    }
  }
  const records: [number, number][] = starts.map((s, i) => [s, starts[i + 1] ?? bytes.length]);
  return { path, bytes, format: all.reader.info.format, records, hci, victronValues };
}

const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40];
const INTERESTING_16 = [0x0000, 0x0001, 0x7fff, 0x8000, 0xffff, 0x0100, 0x1000];
const INTERESTING_32 = [0x00000000, 0x7fffffff, 0x80000000, 0xffffffff, 0x00010000, 0x00100000, 0x40000000];
/** CBOR heads that start long, indefinite or nested items, breaks and reserved values. */
const CBOR_BYTES = [0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x38, 0x40, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5f, 0x7f, 0x80, 0x97, 0x98, 0x99, 0x9f, 0xa1, 0xbf, 0xc1, 0xd9, 0xf8, 0xf9, 0xfb, 0xff, 0x01, 0x05, 0x08, 0x0d];

export const MUTATORS = ['bitflip', 'interesting', 'truncate', 'duplicate-record', 'remove-record', 'inflate-length', 'header-field', 'cbor-value'] as const;
export type Mutator = (typeof MUTATORS)[number];

function put(b: Uint8Array, at: number, v: number, width: number, be: boolean): void {
  for (let i = 0; i < width && at + i < b.length; i++) {
    const shift = 8 * (be ? width - 1 - i : i);
    b[at + i] = Math.floor(v / 2 ** shift) & 0xff;
  }
}

/** One mutation of the seed (a fresh copy); the name of what was done, for the reproducer's note. */
export function mutate(seed: Seed, rng: Rng, kind: Mutator = rng.pick(MUTATORS)): { bytes: Uint8Array; what: string } {
  const m = mutateOnce(seed, rng, kind);
  const same = m.bytes.length === seed.bytes.length && m.bytes.every((x, i) => x === seed.bytes[i]);
  // A value written over itself changes nothing: then one bit of the body is flipped as well.
  return same ? mutateOnce(seed, rng, 'bitflip') : m;
}

function mutateOnce(seed: Seed, rng: Rng, kind: Mutator): { bytes: Uint8Array; what: string } {
  const src = seed.bytes;
  const n = src.length;
  // Keep the file header (where the format is recognised) mostly intact: damage after it is what we test.
  const body = () => Math.min(n - 1, 16 + rng.int(Math.max(1, n - 16)));
  switch (kind) {
    case 'bitflip': {
      const b = src.slice();
      const k = 1 + rng.int(8);
      const flipped = new Set<number>();
      while (flipped.size < k) flipped.add(body() * 8 + rng.int(8)); // distinct bits: two flips of one bit undo each other
      for (const f of flipped) b[f >> 3]! ^= 1 << (f & 7);
      return { bytes: b, what: `${k} bit flip(s)` };
    }
    case 'interesting': {
      const b = src.slice();
      const width = rng.pick([1, 2, 4] as const);
      const v = width === 1 ? rng.pick(INTERESTING_8) : width === 2 ? rng.pick(INTERESTING_16) : rng.pick(INTERESTING_32);
      const at = body();
      put(b, at, v, width, rng.int(2) === 0);
      return { bytes: b, what: `0x${v.toString(16)} (${width} bytes) at ${at}` };
    }
    case 'truncate': {
      const at = body();
      return { bytes: src.slice(0, at), what: `cut at ${at}` };
    }
    case 'duplicate-record':
    case 'remove-record': {
      if (seed.records.length === 0) return mutateOnce(seed, rng, 'bitflip');
      const i = rng.int(seed.records.length);
      const [s, e] = seed.records[i]!;
      const times = kind === 'duplicate-record' ? 1 + rng.int(rng.int(4) === 0 ? 2000 : 3) : 0;
      const parts = [src.subarray(0, kind === 'duplicate-record' ? e : s)];
      for (let t = 0; t < times; t++) parts.push(src.subarray(s, e));
      parts.push(src.subarray(e));
      return { bytes: Buffer.concat(parts), what: `${kind === 'duplicate-record' ? `record ${i + 1} repeated ${times} time(s)` : `record ${i + 1} removed`}` };
    }
    case 'inflate-length': {
      const b = src.slice();
      const layer = rng.int(4);
      const big = rng.pick([0xffff, 0x7fff, 0x8000, 0xfff0, 0x0400, 0x00ff, 0xffffffff, 0x00010010]);
      const fields = LENGTH_FIELDS[seed.format];
      if (layer === 0 && seed.records.length && fields) {
        const [s] = rng.pick(seed.records);
        const f = rng.pick(fields);
        put(b, s + f.at, big, f.width, f.be);
        return { bytes: b, what: `capture record length at ${s + f.at} = 0x${big.toString(16)}` };
      }
      if ((layer === 1 || layer === 2) && seed.hci.length) {
        const h = rng.pick(seed.hci);
        // ACL data length (2 bytes LE at +2) or L2CAP length (2 bytes LE at +4).
        const at = h + (layer === 1 ? 2 : 4);
        put(b, at, big & 0xffff, 2, false);
        return { bytes: b, what: `${layer === 1 ? 'ACL' : 'L2CAP'} length at ${at} = 0x${(big & 0xffff).toString(16)}` };
      }
      if (seed.victronValues.length) {
        // A CBOR length head inside a Victron value: a 4- or 8-byte length.
        const [s, e] = rng.pick(seed.victronValues);
        const at = s + rng.int(e - s);
        b[at] = rng.pick([0x5a, 0x5b, 0x7a, 0x9a, 0xba, 0x59, 0x99]);
        return { bytes: b, what: `CBOR length head 0x${b[at]!.toString(16)} at ${at}` };
      }
      return mutateOnce(seed, rng, 'interesting');
    }
    case 'header-field': {
      // Timestamps, flags, interface ids, drop counters of one record: set to an interesting value.
      const fields = HEADER_FIELDS[seed.format];
      if (!fields || seed.records.length === 0) return mutateOnce(seed, rng, 'interesting');
      const b = src.slice();
      const [s] = rng.pick(seed.records);
      const f = rng.pick(fields);
      const v = rng.pick(INTERESTING_32);
      put(b, s + f.at, v, f.width, f.be);
      return { bytes: b, what: `record header field at ${s + f.at} = 0x${v.toString(16)}` };
    }
    case 'cbor-value': {
      if (seed.victronValues.length === 0) return mutateOnce(seed, rng, 'bitflip');
      const b = src.slice();
      const [s, e] = rng.pick(seed.victronValues);
      const at = s + rng.int(e - s);
      const how = rng.int(3);
      if (how === 0) b[at] = rng.pick(CBOR_BYTES);
      else if (how === 1) b[at] = (b[at]! + rng.pick([1, -1, 24, -24, 32, 0x20])) & 0xff;
      else b[at]! ^= 1 << rng.int(8);
      return { bytes: b, what: `Victron value byte at ${at}: 0x${src[at]!.toString(16)} -> 0x${b[at]!.toString(16)}` };
    }
  }
}
