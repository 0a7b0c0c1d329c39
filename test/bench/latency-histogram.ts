/**
 * Latencies in log-spaced buckets 2% wide from 1 µs up, so generator processes can send theirs to the
 * orchestrator as one small array and the merged percentiles stay within 2%.
 */
const GROWTH = 1.02;
const BUCKETS = 1000; // 1 µs · 1.02^1000 ≈ 400 s
const LOG_GROWTH = Math.log(GROWTH);

export class LatencyHistogram {
  readonly counts: number[];
  total = 0;

  constructor(counts?: number[]) {
    this.counts = counts ? [...counts] : new Array<number>(BUCKETS).fill(0);
    for (const count of this.counts) this.total += count;
  }

  recordNanos(nanos: number): void {
    const micros = nanos / 1000;
    const index = micros <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(micros) / LOG_GROWTH));
    this.counts[index]!++;
    this.total++;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
  }

  /** The upper bound of the bucket holding the q-quantile, in milliseconds (NaN when empty). */
  quantileMs(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return GROWTH ** i / 1000;
    }
    return NaN;
  }
}
