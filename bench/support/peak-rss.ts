// Bench-only preload: `NODE_OPTIONS=--import=<this file>` with STRATA_BENCH_RSS_FILE set makes a
// node process write its peak RSS (KiB, process.resourceUsage().maxRSS) to that file as it exits.
// The product has no hook for this; the bench measures bin/strata as a user runs it.
import { writeFileSync } from 'node:fs';

const target = process.env.STRATA_BENCH_RSS_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    writeFileSync(target, `${process.resourceUsage().maxRSS}\n`);
  });
}
