// Bench-only preload: `NODE_OPTIONS=--import=<this file>` with STRATA_BENCH_RSS_FILE set makes a
// node process write its peak RSS (KiB, process.resourceUsage().maxRSS) and its CPU time (user and
// system, microseconds, zstd's worker threads included) to that file as it exits.
// The product has no hook for this; the bench measures bin/strata as a user runs it.
import { writeFileSync } from 'node:fs';

const target = process.env.STRATA_BENCH_RSS_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(target, `${usage.maxRSS} ${usage.userCPUTime} ${usage.systemCPUTime}\n`);
  });
}
