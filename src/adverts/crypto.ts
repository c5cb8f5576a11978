/**
 * Instant Readout encryption: AES-128-CTR whose 128-bit counter block is the advert's 16-bit IV as a
 * little-endian integer (the document's "nonce", as victron-ble builds it with
 * Counter.new(128, initial_value=iv, little_endian=True)). node:crypto's aes-128-ctr counts
 * big-endian, so the keystream is built here from AES-128-ECB of each counter block: identical for
 * the one block every current record fits in, and right beyond it.
 */
import { createRequire } from 'node:module';

// node:crypto is loaded at the first decryption, not at start: loading it is about 3 ms of every
// run (issue 11), and most runs decrypt nothing.
let crypto: typeof import('node:crypto') | undefined;

export function decryptReadout(key: Uint8Array, iv: number, encrypted: Uint8Array): Uint8Array {
  if (key.length !== 16) throw new Error(`an advertisement key is 16 bytes, not ${key.length}`);
  const blocks = Math.ceil(encrypted.length / 16);
  const counters = new Uint8Array(blocks * 16);
  for (let b = 0; b < blocks; b++) {
    // Little-endian 128-bit counter iv + b (a 16-bit IV plus a few blocks never passes 2^32).
    let c = iv + b;
    for (let i = 0; i < 4; i++) {
      counters[b * 16 + i] = c & 0xff;
      c = Math.floor(c / 256);
    }
  }
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const ecb = crypto.createCipheriv('aes-128-ecb', key, null);
  ecb.setAutoPadding(false);
  const stream = Buffer.concat([ecb.update(counters), ecb.final()]);
  const out = new Uint8Array(encrypted.length);
  for (let i = 0; i < encrypted.length; i++) out[i] = encrypted[i]! ^ stream[i]!;
  return out;
}
