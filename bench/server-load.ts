// Issue 2's load benchmark: one load (puts, ranges, watch fan-out) against `strata server` and
// Debian's etcd 3.4 in the same run, with the same client (src/client), printing throughput and
// p50/p99 latency with strata/etcd ratios. Not a test: nothing here asserts a time.
//
//   npm run bench                       (defaults)
//   node dist/bench/server-load.js --puts 20000 --concurrency 64 --watchers 100
import { putLoad, rangeLoad, runLoads, watchFanOutLoad, type Load } from './load/loads.js';
import { parseOptions } from './load/options.js';
import { comparisonTable, cpuTable } from './load/report.js';
import { runBench } from './load/run-bench.js';
import { startOneEtcd, startOneStrata, type Target } from './load/servers.js';

runBench(async (cleanup) => {
  const options = parseOptions(process.argv.slice(2), { puts: 20_000, gets: 20_000, concurrency: 64, valueBytes: 256, watchers: 100, watchPuts: 2_000 });
  const loads: Record<string, Load> = {
    'put': putLoad(options),
    'range (linearizable get)': rangeLoad(options),
    'watch events delivered': watchFanOutLoad(options),
  };
  // One server at a time, so neither takes CPU or disk from the other.
  const measure = async (start: Promise<Target>) => {
    const target = await start;
    try {
      return await runLoads(target.endpoint, loads, target.pids);
    } finally {
      await target.stop();
    }
  };
  const etcd = await measure(startOneEtcd(cleanup));
  const strata = await measure(startOneStrata(cleanup));
  process.stdout.write(`strata server vs Debian etcd 3.4, one member each, same client; ${JSON.stringify(options)}\n${comparisonTable(strata, etcd)}\n\n${cpuTable(strata, etcd)}\n`);
});
