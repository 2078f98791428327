// Issue 4's cluster benchmark: puts (and linearizable gets) against a three-member strata
// cluster and a three-member Debian etcd 3.4 cluster on this machine, in one run, with the same
// client (src/client) talking to the leader, printing throughput and p50/p99 latency with
// strata/etcd ratios. The goal: strata's put throughput at least half of etcd's, p99 at most 2×.
// Not a test: nothing here asserts a time.
//
//   node dist/bench/cluster-load.js --puts 20000 --concurrency 64 --value-bytes 256
//   node dist/bench/cluster-load.js --role follower          (the client talks to a follower)
//   node dist/bench/cluster-load.js --cpu-prof-dir /tmp/prof (V8 profiles of the strata members)
import { cpuProfileEnv } from './load/cpu-profile.js';
import { putLoad, rangeLoad, runLoads, type Load } from './load/loads.js';
import { parseOptions } from './load/options.js';
import { comparisonTable, cpuTable } from './load/report.js';
import { runBench } from './load/run-bench.js';
import { startEtcdTrio, startStrataTrio, type Role, type Target } from './load/servers.js';

runBench(async (cleanup) => {
  const options = parseOptions(process.argv.slice(2), { puts: 20_000, gets: 10_000, concurrency: 64, valueBytes: 256, role: 'leader', cpuProfDir: '' });
  if (options.role !== 'leader' && options.role !== 'follower') throw new Error(`--role takes leader or follower, not '${options.role}'`);
  const role: Role = options.role;
  const loads: Record<string, Load> = { 'put': putLoad(options), 'range (linearizable get)': rangeLoad(options) };
  const measure = async (start: Promise<Target>) => {
    const target = await start;
    try {
      return { results: await runLoads(target.endpoint, loads, target.pids), pid: target.pids[0] };
    } finally {
      await target.stop();
    }
  };
  // One cluster at a time, so neither takes CPU or disk from the other.
  const etcd = await measure(startEtcdTrio(cleanup, role));
  const profile = options.cpuProfDir === '' ? {} : cpuProfileEnv(options.cpuProfDir);
  const strata = await measure(startStrataTrio(cleanup, role, profile));
  process.stdout.write(
    `strata vs Debian etcd 3.4, three members each, client on the ${role}, same client; ${JSON.stringify(options)}\n` +
      `${comparisonTable(strata.results, etcd.results)}\n\n${cpuTable(strata.results, etcd.results)}\n`,
  );
  if (options.cpuProfDir !== '') process.stdout.write(`CPU profiles in ${options.cpuProfDir}; the ${role}'s is ${strata.pid}.cpuprofile\n`);
});
