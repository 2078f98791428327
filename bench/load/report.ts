import type { Result } from './percentiles.js';

/** A table of strata against etcd per load, with throughput and latency ratios (strata / etcd). */
export function comparisonTable(strata: Record<string, Result>, etcd: Record<string, Result>): string {
  const rows = Object.keys(etcd).map((name) => {
    const s = strata[name]!;
    const e = etcd[name]!;
    return [
      name,
      s.opsPerSecond.toFixed(0),
      e.opsPerSecond.toFixed(0),
      (s.opsPerSecond / e.opsPerSecond).toFixed(2),
      `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)}`,
      `${e.p50.toFixed(2)} / ${e.p99.toFixed(2)}`,
      (s.p50 / e.p50).toFixed(2),
      (s.p99 / e.p99).toFixed(2),
    ];
  });
  const header = ['load', 'strata ops/s', 'etcd ops/s', 'throughput ratio', 'strata p50/p99 ms', 'etcd p50/p99 ms', 'p50 ratio', 'p99 ratio'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
