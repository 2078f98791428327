// Issue 2's load benchmark: one load (puts, ranges, watch fan-out) against `strata server` and
// Debian's etcd 3.4 in the same run, with the same client (src/client), printing throughput and
// p50/p99 latency with strata/etcd ratios. Not a test: nothing here asserts a time.
//
//   npm run bench                       (defaults)
//   node dist/bench/server-load.js --puts 20000 --concurrency 64 --watchers 100
import { join } from 'node:path';
import { EtcdClient } from '../src/client/client.js';
import { startEtcd, tempDir } from '../test/support/index.js';
import { startStrataServer } from '../test/e2e/strata-server.js';

interface Options {
  puts: number;
  gets: number;
  concurrency: number;
  valueBytes: number;
  watchers: number;
  watchPuts: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { puts: 20_000, gets: 20_000, concurrency: 64, valueBytes: 256, watchers: 100, watchPuts: 2_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Options;
    if (!(name in options)) throw new Error(`unknown option ${argv[i]}`);
    options[name] = Number(argv[i + 1]);
  }
  return options;
}

interface Result {
  opsPerSecond: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs `total` operations with `concurrency` in flight; latency per operation in ms. */
async function closedLoop(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Result> {
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
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { opsPerSecond: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** `watchers` watches on one prefix (one stream each, as separate clients would); latency from put sent to event seen. */
async function watchFanOut(client: EtcdClient, options: Options): Promise<Result> {
  const streams = Array.from({ length: Math.min(options.watchers, 10) }, () => client.watchStream());
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const expected = options.watchers * options.watchPuts;
  let delivered = 0;
  let done!: () => void;
  const allDelivered = new Promise<void>((resolve) => (done = resolve));
  const created: Array<Promise<void>> = [];
  for (let w = 0; w < options.watchers; w++) {
    const watch = streams[w % streams.length]!.watch({ key: '/fanout/', range_end: '/fanout0' });
    created.push(new Promise((resolve) => watch.once('created', () => resolve())));
    watch.on('events', (events: Array<{ kv: { key: Buffer } | null }>) => {
      const now = performance.now();
      for (const event of events) {
        const t0 = sentAt.get(event.kv!.key.toString());
        if (t0 !== undefined) latencies.push(now - t0);
        if (++delivered === expected) done();
      }
    });
  }
  await Promise.all(created);
  const started = performance.now();
  const value = Buffer.alloc(options.valueBytes, 'w');
  await closedLoop(options.watchPuts, 16, async (i) => {
    const key = `/fanout/${i}`;
    sentAt.set(key, performance.now());
    await client.put({ key, value });
  });
  await allDelivered;
  const seconds = (performance.now() - started) / 1000;
  for (const stream of streams) stream.close();
  latencies.sort((a, b) => a - b);
  return { opsPerSecond: delivered / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function runLoad(endpoint: string, options: Options): Promise<Record<string, Result>> {
  const client = new EtcdClient({ endpoints: [endpoint], requestTimeoutMs: 60_000 });
  try {
    const value = Buffer.alloc(options.valueBytes, 'v');
    await client.put({ key: 'warm-up', value });
    const put = await closedLoop(options.puts, options.concurrency, (i) => client.put({ key: `/bench/${i % 10_000}`, value }));
    const range = await closedLoop(options.gets, options.concurrency, (i) => client.range({ key: `/bench/${i % 10_000}` }));
    const watch = await watchFanOut(client, options);
    return { 'put': put, 'range (linearizable get)': range, 'watch events delivered': watch };
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dir = tempDir('bench');
  try {
    const etcd = await startEtcd({ name: 'bench' });
    let etcdResults: Record<string, Result>;
    try {
      etcdResults = await runLoad(etcd.endpoint, options);
    } finally {
      await etcd.stop();
    }
    const strata = await startStrataServer({ dataDir: join(dir.path, 'strata') });
    let strataResults: Record<string, Result>;
    try {
      strataResults = await runLoad(strata.endpoint, options);
    } finally {
      await strata.stop();
    }
    const rows = Object.keys(etcdResults).map((name) => {
      const s = strataResults[name]!;
      const e = etcdResults[name]!;
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
    const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
    process.stdout.write(
      `strata server vs Debian etcd ${'3.4'}, one member each, same client; ${JSON.stringify(options)}\n${line(header)}\n${rows.map(line).join('\n')}\n`,
    );
  } finally {
    dir.remove();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
