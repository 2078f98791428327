import type { Result } from './percentiles.js';

/** Left-aligned columns two spaces apart. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** strata against etcd per load, with throughput and latency ratios (strata / etcd). */
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
  return table(['load', 'strata ops/s', 'etcd ops/s', 'throughput ratio', 'strata p50/p99 ms', 'etcd p50/p99 ms', 'p50 ratio', 'p99 ratio'], rows);
}

/**
 * CPU time per operation of each server process (the member the client talks to first), and
 * strata's total over etcd's: steadier than throughput when other work shares the machine.
 */
export function cpuTable(strata: Record<string, Result>, etcd: Record<string, Result>): string {
  const perMember = (r: Result | undefined): string => r?.cpuMsPerOp?.map((ms) => ms.toFixed(3)).join(' / ') ?? '-';
  const total = (r: Result | undefined): number => r?.cpuMsPerOp?.reduce((a, b) => a + b, 0) ?? NaN;
  const rows = Object.keys(etcd).map((name) => [name, perMember(strata[name]), perMember(etcd[name]), (total(strata[name]) / total(etcd[name])).toFixed(2)]);
  return table(['load', 'strata CPU ms/op', 'etcd CPU ms/op', 'total ratio'], rows);
}
