/** What one load measured: completed operations per second and latency percentiles in ms. */
export interface Result {
  ops: number;
  opsPerSecond: number;
  p50: number;
  p99: number;
  /** CPU time per operation (ms) of each member process runLoads was given, in that order. */
  cpuMsPerOp?: number[];
}

/** The nearest-rank percentile of ascending `sorted` (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** `count` operations in `seconds` with these per-operation latencies (ms; sorted in place). */
export function summarize(count: number, seconds: number, latencies: number[]): Result {
  latencies.sort((a, b) => a - b);
  return { ops: count, opsPerSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}
