/**
 * Byte sources for the push parsers: a file read in large chunks (constant memory), or bytes
 * already in memory. Parsers keep only the unparsed tail of the previous chunk.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

export const CHUNK_SIZE = 1 << 16;

/**
 * Records per batch. A 64 KiB chunk holds thousands of small records; yielding them in smaller
 * batches lets each one (and what later stages make of it) die young, instead of surviving a
 * scavenge and being copied and promoted by the garbage collector. Reads stay large.
 */
export const MAX_BATCH = 256;

/**
 * A file in chunks, each a buffer of its own (records are views into it). The next chunk is read while
 * the consumer works on the current one: waiting for each read was about a sixth of `vgatt att` on a
 * large capture (issue 11: 20 MB 0.51 -> 0.44 s, 100 MB 1.68 -> 1.29 s, same peak). Records now go on in
 * batches that die young, so the chunk read ahead no longer raises the peak (it did before: diff 180 MB).
 */
export async function* fileChunks(path: string, start = 0, chunkSize = CHUNK_SIZE): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  let next: Promise<Buffer> | undefined;
  try {
    let pos = start;
    const read = (at: number) => {
      const buf = Buffer.allocUnsafe(chunkSize);
      const p = fh.read(buf, 0, chunkSize, at).then(({ bytesRead }) => (bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead)));
      // A failed read is thrown where it is awaited, not reported as unhandled while the consumer works.
      p.catch(() => undefined);
      return p;
    };
    next = read(pos);
    for (;;) {
      const chunk = await next;
      if (chunk.length === 0) return;
      pos += chunk.length;
      next = read(pos);
      yield chunk;
    }
  } finally {
    // A consumer that stops early leaves a read in flight: the file is closed after it.
    await next?.then(undefined, () => undefined);
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

/**
 * Bytes that can be read only once, from their start: standard input, a FIFO, a process
 * substitution (`<(adb exec-out ...)`). The head is read first (to detect the format), then
 * `chunks()` replays it and goes on with the rest as it arrives, so records come out while the
 * writer is still writing. `bytes` counts what has been read (a stream has no size up front).
 */
export class OneShotSource {
  bytes = 0;
  private used = false;

  private constructor(
    private readonly it: AsyncIterator<Buffer | string>,
    private readonly pending: Buffer[],
  ) {}

  /**
   * Opens `path` ('-' is standard input) and reads its head: at least `minHead` bytes (fewer at end
   * of input; enough to detect the format without waiting for a slow writer), at most `headSize`.
   */
  static async open(path: string, headSize: number, minHead = 1024): Promise<{ source: OneShotSource; head: Buffer }> {
    const stream = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: CHUNK_SIZE });
    const it = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    const pending: Buffer[] = [];
    let have = 0;
    const src = new OneShotSource(it, pending);
    while (have < minHead) {
      const n = await it.next();
      if (n.done) break;
      const b = typeof n.value === 'string' ? Buffer.from(n.value, 'latin1') : n.value;
      pending.push(b);
      have += b.length;
    }
    src.bytes = have;
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    return { source: src, head: all.subarray(0, Math.min(headSize, all.length)) };
  }

  /** The bytes from offset `start` (within the head already read) to the end of input; once only. */
  async *chunks(start = 0): AsyncGenerator<Buffer> {
    if (this.used) throw new Error('a stream input can be read only once');
    this.used = true;
    let skip = start;
    for await (const b of this.all()) {
      if (skip >= b.length) skip -= b.length;
      else {
        yield skip > 0 ? b.subarray(skip) : b;
        skip = 0;
      }
    }
  }

  /** The head already read, then the rest as it arrives. */
  private async *all(): AsyncGenerator<Buffer> {
    yield* this.pending.splice(0);
    for (;;) {
      const n = await this.it.next();
      if (n.done) return;
      const b = typeof n.value === 'string' ? Buffer.from(n.value, 'latin1') : n.value;
      this.bytes += b.length;
      yield b;
    }
  }

  /** Stops reading (the input was refused). */
  close(): void {
    void this.it.return?.();
  }
}
