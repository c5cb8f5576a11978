/**
 * Small byte arrays cut from shared slabs: a typed array of its own has its own store, slow to make
 * and to free above 64 bytes (off-heap); below, it lives on the JS heap, and the first view of it
 * (subarray, .buffer) moves it off-heap, which costs about 20 times a view of a slab. A slab lives
 * as long as an array cut from it.
 */
const SLAB_SIZE = 1 << 13;
let slab = new ArrayBuffer(0);
let slabUsed = 0;

/** `n` zeroed bytes; from a shared slab up to a quarter of its size. */
export function slabAlloc(n: number): Uint8Array {
  if (n > SLAB_SIZE >> 2) return new Uint8Array(n);
  if (slabUsed + n > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  slabUsed += n;
  return out;
}
