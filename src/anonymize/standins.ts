/**
 * Same-length stand-ins for identifying values, consistent within one run: the same original
 * always gets the same stand-in, and different originals get different ones.
 *
 * Stand-ins come from HMAC-SHA256 under a key that is random per run (or derived from `--seed`,
 * for reproducible output). They are never a function of the original alone: a 6-digit PIN or a
 * serial number hashed without a secret key would be recovered by trying every candidate.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { formatAddress } from '../bluetooth/index.js';
import { toHex } from '../util/cursor.js';

export type SecretCategory = 'address' | 'serial' | 'text' | 'bytes';

export interface MappingEntry {
  category: SecretCategory;
  /** Lowercase hex of the original bytes (addresses: "aa:bb:..", serials and text: the string). */
  original: string;
  standIn: string;
  /** Where it was found first (e.g. "register 0xEC65", "LE Connection Complete peer address"). */
  where: string;
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

export class StandIns {
  private readonly key: Buffer;
  private readonly map = new Map<string, MappingEntry & { bytes: Uint8Array }>();
  /** Stand-in bytes already handed out per category: a stand-in is never reused for another original. */
  private readonly used = new Set<string>();
  /** Originals seen, so that no stand-in equals a real value of the capture. */
  private readonly originals = new Set<string>();

  constructor(seed?: string) {
    this.key = seed !== undefined ? createHmac('sha256', 'vgatt-anonymize').update(seed).digest() : randomBytes(32);
  }

  private stream(category: string, original: Uint8Array, attempt: number, n: number): Buffer {
    const out: Buffer[] = [];
    let have = 0;
    for (let block = 0; have < n; block++) {
      const h = createHmac('sha256', this.key).update(`${category}\0${attempt}\0${block}\0`).update(original).digest();
      out.push(h);
      have += h.length;
    }
    return Buffer.concat(out).subarray(0, n);
  }

  private remember(category: SecretCategory, original: Uint8Array, where: string, make: (attempt: number) => Uint8Array, show: (b: Uint8Array) => string): Uint8Array {
    const id = `${category}/${toHex(original)}`;
    const got = this.map.get(id);
    if (got) return got.bytes;
    this.originals.add(id);
    let bytes = make(0);
    for (let attempt = 1; this.used.has(`${category}/${toHex(bytes)}`) || this.originals.has(`${category}/${toHex(bytes)}`); attempt++) {
      if (attempt > 64) break; // a value space too small to avoid every clash (a 1-digit PIN): keep the last draw
      bytes = make(attempt);
    }
    this.used.add(`${category}/${toHex(bytes)}`);
    this.map.set(id, { category, original: show(original), standIn: show(bytes), where, bytes });
    return bytes;
  }

  /** Tells the generator an original exists (before stand-ins are drawn), so no stand-in equals it. */
  reserve(category: SecretCategory, original: Uint8Array): void {
    this.originals.add(`${category}/${toHex(original)}`);
  }

  /**
   * A device address (6 bytes, little-endian as HCI carries it). The two top bits of the most
   * significant byte are kept: they say whether a random address is static, resolvable or not
   * (Core spec Vol 6 Part B 1.3), so the capture still shows the same kind of address.
   */
  address(le: Uint8Array, where: string): Uint8Array {
    return this.remember(
      'address',
      le,
      where,
      (attempt) => {
        const b = Uint8Array.from(this.stream('address', le, attempt, 6));
        b[5] = (b[5]! & 0x3f) | (le[5]! & 0xc0);
        return b;
      },
      formatAddress,
    );
  }

  /**
   * Text: each ASCII digit becomes a digit, each letter a letter of the same case, everything
   * else (spaces, dashes, NUL and 0xff padding) is kept, so the value keeps its shape and length.
   * The first `keep` bytes are kept as they are.
   */
  text(original: Uint8Array, where: string, category: 'serial' | 'text' = 'text', keep = 0): Uint8Array {
    return this.remember(
      category,
      original,
      where,
      (attempt) => {
        const r = this.stream(category, original, attempt, original.length);
        const out = Uint8Array.from(original);
        for (let i = keep; i < out.length; i++) {
          const c = out[i]!;
          const pick = (set: string) => set.charCodeAt(r[i]! % set.length);
          if (c >= 0x30 && c <= 0x39) out[i] = pick(DIGITS);
          else if (c >= 0x41 && c <= 0x5a) out[i] = pick(UPPER);
          else if (c >= 0x61 && c <= 0x7a) out[i] = pick(LOWER);
        }
        return out;
      },
      (b) => Buffer.from(b).toString('latin1'),
    );
  }

  /**
   * A serial number: as text, but its first two letters (the factory code, e.g. "HQ") are kept,
   * so it still reads as a Victron serial number.
   */
  serial(original: Uint8Array, where: string): Uint8Array {
    const prefix = original.length > 2 && isUpper(original[0]) && isUpper(original[1]) ? 2 : 0;
    return this.text(original, where, 'serial', prefix);
  }

  /** Binary secrets (keys): every byte replaced. */
  bytes(original: Uint8Array, where: string): Uint8Array {
    return this.remember('bytes', original, where, (attempt) => Uint8Array.from(this.stream('bytes', original, attempt, original.length)), toHex);
  }

  isReserved(category: SecretCategory, original: Uint8Array): boolean {
    return this.originals.has(`${category}/${toHex(original)}`);
  }

  /** The stand-in of a known address, when this original has one. */
  knownAddress(le: Uint8Array): Uint8Array | undefined {
    return this.map.get(`address/${toHex(le)}`)?.bytes;
  }

  knownSerial(original: Uint8Array): Uint8Array | undefined {
    return this.map.get(`serial/${toHex(original)}`)?.bytes;
  }

  entries(): MappingEntry[] {
    return [...this.map.values()].map(({ category, original, standIn, where }) => ({ category, original, standIn, where }));
  }

  /** Every original/stand-in pair of a category, as bytes. */
  pairs(category: SecretCategory): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    for (const [id, e] of this.map) if (e.category === category) out.push([Buffer.from(id.slice(category.length + 1), 'hex'), e.bytes]);
    return out;
  }
}

function isUpper(c: number | undefined): boolean {
  return c !== undefined && c >= 0x41 && c <= 0x5a;
}
