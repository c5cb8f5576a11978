import type { Writable } from 'node:stream';

/**
 * Buffers output lines and writes them in large chunks, waiting for 'drain' so that a slow
 * consumer (a pager, `| jq`) bounds memory. A closed pipe (`| head`) ends output quietly.
 */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  closed = false;

  constructor(private readonly out: Writable, private readonly chunk = 1 << 16) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  /** Queue one line synchronously; call `maybeFlush()` now and then (e.g. once per batch). */
  add(s: string): void {
    this.parts.push(s);
    this.size += s.length + 1;
  }

  async maybeFlush(): Promise<void> {
    if (this.size >= this.chunk) await this.flush();
    else if (this.closed) this.parts = [];
  }

  /** Queue one line (without newline); resolves immediately unless a flush must wait. */
  async line(s: string): Promise<void> {
    if (this.closed) return;
    this.parts.push(s);
    this.size += s.length + 1;
    if (this.size >= this.chunk) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0 || this.closed) return;
    const text = this.parts.join('\n') + '\n';
    this.parts = [];
    this.size = 0;
    if (!this.out.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('close', done);
          this.out.off('error', done);
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('close', done);
        this.out.on('error', done);
      });
    }
  }
}
