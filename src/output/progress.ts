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
    const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    process.stderr.write(`\r${this.label}: ${pct}% (${mb(done)}/${mb(total)} MB)`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
