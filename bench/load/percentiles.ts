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

/** The median of `values` (the mean of the middle two for an even count; NaN when empty). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Field by field, the median of several measurements of one load. */
export function medianResult(results: readonly Result[]): Result {
  const of = (pick: (r: Result) => number): number => median(results.map(pick));
  const members = results[0]?.cpuMsPerOp?.length ?? 0;
  const cpu = Array.from({ length: members }, (_, i) => of((r) => r.cpuMsPerOp?.[i] ?? NaN));
  return { ops: of((r) => r.ops), opsPerSecond: of((r) => r.opsPerSecond), p50: of((r) => r.p50), p99: of((r) => r.p99), ...(members > 0 ? { cpuMsPerOp: cpu } : {}) };
}
