/** A one-line progress display on stderr, only when stderr is a terminal (never in pipes or CI logs). */
export class Progress {
  private last = 0;
  private shown = false;
  readonly enabled: boolean;

  constructor(private readonly label: string, enabled = Boolean(process.stderr.isTTY)) {
    this.enabled = enabled;
  }

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    // A pipe has no size up front: only what was read so far.
    if (!(total > 0)) process.stderr.write(`\r${this.label}: ${mb(done)} MB read`);
    else process.stderr.write(`\r${this.label}: ${Math.floor((100 * done) / total)}% (${mb(done)}/${mb(total)} MB)`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
