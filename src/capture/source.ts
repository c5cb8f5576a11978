/**
 * Byte sources for the push parsers: a file read in large chunks (constant memory), or bytes
 * already in memory. Parsers keep only the unparsed tail of the previous chunk.
 */
import { open } from 'node:fs/promises';

export const CHUNK_SIZE = 1 << 16;

/**
 * Records per batch. A 64 KiB chunk holds thousands of small records; yielding them in smaller
 * batches lets each one (and what later stages make of it) die young, instead of surviving a
 * scavenge and being copied and promoted by the garbage collector. Reads stay large.
 */
export const MAX_BATCH = 256;

export async function* fileChunks(path: string, start = 0, chunkSize = CHUNK_SIZE): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    let pos = start;
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkSize);
      const { bytesRead } = await fh.read(buf, 0, chunkSize, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

export async function* memoryChunks(bytes: Uint8Array, start = 0, chunkSize = CHUNK_SIZE): AsyncGenerator<Buffer> {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = start; pos < b.length; pos += chunkSize) yield b.subarray(pos, Math.min(b.length, pos + chunkSize));
}

/**
 * Carry buffer for push parsers: holds unconsumed bytes and the file offset of the first one.
 * Concatenation only copies the (small) tail of the previous chunk.
 */
export class Carry {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** File offset of buf[0]. */
  base: number;

  constructor(base: number) {
    this.base = base;
  }

  push(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length;
      this.buf = chunk;
    } else {
      const rest = this.buf.subarray(this.pos);
      this.base += this.pos;
      this.buf = Buffer.concat([rest, chunk]);
    }
    this.pos = 0;
  }

  get available(): number {
    return this.buf.length - this.pos;
  }

  /** File offset of the next unconsumed byte. */
  get offset(): number {
    return this.base + this.pos;
  }
}
