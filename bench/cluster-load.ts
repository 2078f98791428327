// Issue 4's cluster benchmark: puts (and linearizable gets) against a three-member strata
// cluster and a three-member Debian etcd 3.4 cluster on this machine, in one run, with the same
// client (src/client) talking to the leader, printing throughput and p50/p99 latency with
// strata/etcd ratios. The goal: strata's put throughput at least half of etcd's, p99 at most 2×.
// Not a test: nothing here asserts a time.
//
// It runs in rounds, each a fresh etcd cluster and a fresh strata cluster, one at a time (so
// neither takes CPU or disk from the other), etcd first in odd rounds and strata first in even
// ones: this machine's speed drifts by a factor of two over minutes, and a round measures both
// under about the same drift. The verdict is the median over the rounds of each round's ratio;
// every round is printed.
//
//   node dist/bench/cluster-load.js --puts 20000 --concurrency 64 --value-bytes 256 --rounds 3
//   node dist/bench/cluster-load.js --role follower          (the client talks to a follower)
//   node dist/bench/cluster-load.js --cpu-prof-dir /tmp/prof (V8 profiles of the strata members)
import { cpuProfileEnv } from './load/cpu-profile.js';
import { putLoad, rangeLoad, runLoads, type Load } from './load/loads.js';
import { parseOptions } from './load/options.js';
import { median, medianResult, type Result } from './load/percentiles.js';
import { comparisonTable, cpuTable } from './load/report.js';
import { runBench } from './load/run-bench.js';
import { startEtcdTrio, startStrataTrio, type Role, type Target } from './load/servers.js';

runBench(async (cleanup) => {
  const options = parseOptions(process.argv.slice(2), { puts: 20_000, gets: 10_000, concurrency: 64, valueBytes: 256, role: 'leader', rounds: 3, cpuProfDir: '' });
  if (options.role !== 'leader' && options.role !== 'follower') throw new Error(`--role takes leader or follower, not '${options.role}'`);
  if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new Error(`--rounds takes a whole number of at least 1, not ${options.rounds}`);
  const role: Role = options.role;
  const loads: Record<string, Load> = { 'put': putLoad(options), 'range (linearizable get)': rangeLoad(options) };
  const profile = options.cpuProfDir === '' ? {} : cpuProfileEnv(options.cpuProfDir);
  const measure = async (start: () => Promise<Target>): Promise<Record<string, Result>> => {
    const target = await start();
    try {
      return await runLoads(target.endpoint, loads, target.pids);
    } finally {
      await target.stop();
    }
  };
  const measureEtcd = (): Promise<Record<string, Result>> => measure(() => startEtcdTrio(cleanup, role));
  const measureStrata = (): Promise<Record<string, Result>> => measure(() => startStrataTrio(cleanup, role, profile));
  const rounds: Array<{ strata: Record<string, Result>; etcd: Record<string, Result> }> = [];
  const say = (text: string): boolean => process.stdout.write(`${text}\n`);
  say(`strata vs Debian etcd 3.4, three members each, client on the ${role}, same client; ${JSON.stringify(options)}`);
  for (let round = 1; round <= options.rounds; round++) {
    const etcdFirst = round % 2 === 1;
    const first = await (etcdFirst ? measureEtcd() : measureStrata());
    const second = await (etcdFirst ? measureStrata() : measureEtcd());
    const measured = etcdFirst ? { etcd: first, strata: second } : { strata: first, etcd: second };
    rounds.push(measured);
    say(`\nround ${round} (${etcdFirst ? 'etcd' : 'strata'} first)\n${comparisonTable(measured.strata, measured.etcd)}`);
  }
  const medians = (side: 'strata' | 'etcd'): Record<string, Result> =>
    Object.fromEntries(Object.keys(loads).map((name) => [name, medianResult(rounds.map((r) => r[side][name]!))]));
  const ratios = (name: string, of: (r: Result) => number): number[] => rounds.map((r) => of(r.strata[name]!) / of(r.etcd[name]!));
  const list = (values: number[]): string => values.map((v) => v.toFixed(2)).join(', ');
  const throughput = ratios('put', (r) => r.opsPerSecond);
  const p99 = ratios('put', (r) => r.p99);
  say(`\nmedian of ${options.rounds} rounds\n${cpuTable(medians('strata'), medians('etcd'))}`);
  say(
    `\ngoal (issue 4), put: throughput ratio ${list(throughput)}, median ${median(throughput).toFixed(2)} (at least 0.5: ${median(throughput) >= 0.5 ? 'met' : 'MISSED'}); ` +
      `p99 ratio ${list(p99)}, median ${median(p99).toFixed(2)} (at most 2: ${median(p99) <= 2 ? 'met' : 'MISSED'})`,
  );
  if (options.cpuProfDir !== '') say(`CPU profiles of every strata member in ${options.cpuProfDir}, one per process and round`);
});
