/**
 * A chart line whose size is bounded whatever the number of readings (a day-long log has millions).
 * Readings go into buckets of `per` consecutive readings; a bucket keeps its lowest and its highest
 * reading with their times, so a spike survives however much the line is thinned. When
 * 2 x MAX_BUCKETS buckets are full, neighbours merge pairwise and `per` doubles: at most 4,000
 * buckets, drawn as at most 8,000 points. Up to 4,000 readings every reading is its own bucket, so a
 * short capture's chart shows each one.
 *
 * A break (a silence, a new session, a reading without a value) is a bucket of its own, drawn as a null
 * point where the line stops; merging never joins values across it, unless breaks fill over half of the
 * buckets, when the line is too dense to show them anyway.
 *
 * The buckets live in typed arrays, not an object per reading: objects kept for a while get copied and
 * promoted by the garbage collector, which made the report's memory grow with the capture (issue 11).
 */
export const MAX_BUCKETS = 2000;

export class ChartSeries {
  /** Readings per bucket. */
  per = 1;
  private n = 0;
  /** Readings in the last bucket; `per` or more: the next reading starts a new bucket. */
  private fill = 0;
  // Per bucket: time (ms) and value of its lowest and highest reading; a break bucket has NaN values.
  private minMs = new Float64Array(64);
  private minV = new Float64Array(64);
  private maxMs = new Float64Array(64);
  private maxV = new Float64Array(64);

  get buckets(): number {
    return this.n;
  }

  add(ms: number, v: number): void {
    const i = this.n - 1;
    if (i >= 0 && this.fill < this.per && !Number.isNaN(this.minV[i]!)) {
      this.fill++;
      if (v < this.minV[i]!) {
        this.minV[i] = v;
        this.minMs[i] = ms;
      }
      if (v > this.maxV[i]!) {
        this.maxV[i] = v;
        this.maxMs[i] = ms;
      }
      return;
    }
    this.push(ms, v, ms, v);
    this.fill = 1;
  }

  /** The line stops at `ms` (drawn as a null point); the next reading starts a new bucket. */
  break(ms: number): void {
    this.push(ms, NaN, ms, NaN);
    this.fill = this.per;
  }

  /** [unix ms, value] points in time order; null where the line breaks. */
  points(): [number, number | null][] {
    const out: [number, number | null][] = [];
    for (let i = 0; i < this.n; i++) {
      const a = this.minMs[i]!;
      const b = this.maxMs[i]!;
      if (Number.isNaN(this.minV[i]!)) out.push([a, null]);
      else if (a === b) out.push([a, this.minV[i]!]);
      else if (a < b) out.push([a, this.minV[i]!], [b, this.maxV[i]!]);
      else out.push([b, this.maxV[i]!], [a, this.minV[i]!]);
    }
    return out;
  }

  private push(aMs: number, aV: number, bMs: number, bV: number): void {
    if (this.n === this.minMs.length) {
      if (this.n >= 2 * MAX_BUCKETS) this.merge();
      else this.grow(Math.min(2 * MAX_BUCKETS, 2 * this.n));
    }
    const i = this.n++;
    this.minMs[i] = aMs;
    this.minV[i] = aV;
    this.maxMs[i] = bMs;
    this.maxV[i] = bV;
  }

  private grow(size: number): void {
    for (const k of ['minMs', 'minV', 'maxMs', 'maxV'] as const) {
      const a = new Float64Array(size);
      a.set(this[k]);
      this[k] = a;
    }
  }

  /** Neighbouring value buckets merge pairwise (and neighbouring breaks); if breaks keep it over half full, everything merges. */
  private merge(): void {
    this.pairUp(false);
    if (this.n > MAX_BUCKETS * 1.5) this.pairUp(true);
    this.per *= 2;
    this.fill = this.per; // the next reading starts a new bucket
  }

  private pairUp(force: boolean): void {
    let w = 0;
    for (let r = 0; r < this.n; w++) {
      const nullA = Number.isNaN(this.minV[r]!);
      const hasB = r + 1 < this.n;
      const nullB = hasB && Number.isNaN(this.minV[r + 1]!);
      this.copy(r, w);
      if (!hasB || (!force && nullA !== nullB)) {
        r++;
        continue;
      }
      // Merge bucket r + 1 into w: a break merged with values gives way to the values.
      const b = r + 1;
      if (nullA && !nullB) this.copy(b, w);
      else if (!nullB) {
        if (this.minV[b]! < this.minV[w]!) {
          this.minV[w] = this.minV[b]!;
          this.minMs[w] = this.minMs[b]!;
        }
        if (this.maxV[b]! > this.maxV[w]!) {
          this.maxV[w] = this.maxV[b]!;
          this.maxMs[w] = this.maxMs[b]!;
        }
      }
      r += 2;
    }
    this.n = w;
  }

  private copy(from: number, to: number): void {
    this.minMs[to] = this.minMs[from]!;
    this.minV[to] = this.minV[from]!;
    this.maxMs[to] = this.maxMs[from]!;
    this.maxV[to] = this.maxV[from]!;
  }
}
