import { summarize, type Result } from './percentiles.js';

/** Runs `total` operations with `concurrency` in flight (a closed loop); latency per operation in ms. */
export async function closedLoop(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return summarize(total, (performance.now() - started) / 1000, latencies);
}
