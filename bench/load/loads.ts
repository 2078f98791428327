// The loads the benchmarks run, each through src/client against whatever server the endpoint is.
import { EtcdClient } from '../../src/client/client.js';
import { processCpuMs } from './cpu-time.js';
import { closedLoop } from './load-generator.js';
import { summarize, type Result } from './percentiles.js';

export type Load = (client: EtcdClient) => Promise<Result>;

/** Keys cycle through this many, so puts overwrite and gets hit what the puts wrote. */
const KEY_SPACE = 10_000;

export function putLoad(options: { puts: number; concurrency: number; valueBytes: number }): Load {
  const value = Buffer.alloc(options.valueBytes, 'v');
  return (client) => closedLoop(options.puts, options.concurrency, (i) => client.put({ key: `/bench/${i % KEY_SPACE}`, value }));
}

/** Linearizable gets (etcd's default) of single keys. */
export function rangeLoad(options: { gets: number; concurrency: number }): Load {
  return (client) => closedLoop(options.gets, options.concurrency, (i) => client.range({ key: `/bench/${i % KEY_SPACE}` }));
}

/** `watchers` watches on one prefix (one stream each, as separate clients would); latency from put sent to event seen. */
export function watchFanOutLoad(options: { watchers: number; watchPuts: number; valueBytes: number }): Load {
  return async (client) => {
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
    return summarize(delivered, seconds, latencies);
  };
}

/**
 * Runs the loads in order with one client on `endpoint`, after a warm-up put, and charges each
 * its share of the CPU time of the server processes `pids`.
 */
export async function runLoads(endpoint: string, loads: Record<string, Load>, pids: readonly number[] = []): Promise<Record<string, Result>> {
  const client = new EtcdClient({ endpoints: [endpoint], requestTimeoutMs: 60_000 });
  try {
    await client.put({ key: 'warm-up', value: Buffer.from('w') });
    const results: Record<string, Result> = {};
    for (const [name, load] of Object.entries(loads)) {
      const before = pids.map(processCpuMs);
      const result = await load(client);
      const cpuMsPerOp = pids.map((pid, i) => (processCpuMs(pid) - before[i]!) / result.ops);
      results[name] = pids.length > 0 ? { ...result, cpuMsPerOp } : result;
    }
    return results;
  } finally {
    client.close();
  }
}
