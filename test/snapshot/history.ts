// A seeded MVCC history written through the API: puts, overwrites, deletes, a compaction in the
// middle (with keys the compaction kept written again afterwards), and leases with keys.
// Every operation is drawn from the seed up front; the first puts go 100 to a txn (a revision
// with many sub revisions) and the overwrites and deletes run 32 at a time, so the 100k
// keys load in seconds. The order within a phase may vary between runs; the phases do not.
import { EtcdClient } from '../../src/client/client.js';
import type { TxnOpInput } from '../../src/client/types.js';
import { seededRandom } from '../support/index.js';

export interface WrittenHistory {
  revision: number;
  compactRevision: number;
  liveKeys: number;
}

const TXN_PUTS = 100;
const IN_FLIGHT = 32;

async function runConcurrently(tasks: Array<() => Promise<unknown>>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

export async function writeHistory(endpoint: string, options: { seed: number; keys: number }): Promise<WrittenHistory> {
  const random = seededRandom(options.seed);
  const client = new EtcdClient({ endpoints: [endpoint], requestTimeoutMs: 20_000 });
  try {
    const live = new Set<string>();
    const value = (): string => `v${Math.floor(random() * 1e9)}`;
    const name = (i: number): string => `/hist/${String(i).padStart(6, '0')}`;
    const anyKey = (): string => name(Math.floor(random() * options.keys));
    const put = async (key: string, text: string, lease?: string): Promise<number> => {
      const res = await client.put({ key, value: text, ...(lease !== undefined ? { lease } : {}) });
      live.add(key);
      return Number(res.header?.revision);
    };
    const overwrites = (count: number): Array<() => Promise<number>> =>
      Array.from({ length: count }, () => {
        const [key, text] = [anyKey(), value()];
        return () => put(key, text);
      });

    const batches: Array<() => Promise<unknown>> = [];
    for (let first = 0; first < options.keys; first += TXN_PUTS) {
      const ops: TxnOpInput[] = [];
      for (let i = first; i < Math.min(first + TXN_PUTS, options.keys); i++) {
        live.add(name(i));
        ops.push({ request_put: { key: Buffer.from(name(i)), value: Buffer.from(value()) } });
      }
      batches.push(() => client.txn({ success: ops }));
    }
    await runConcurrently(batches);
    await runConcurrently(overwrites(options.keys / 4));
    const deletes = Array.from({ length: options.keys / 10 }, () => {
      const key = anyKey();
      return async () => {
        await client.deleteRange({ key });
        live.delete(key);
      };
    });
    await runConcurrently(deletes);
    const compactRevision = await put('/hist/marker', value());
    await client.compact(String(compactRevision), true);
    await runConcurrently(overwrites(options.keys / 4));
    for (let l = 0; l < 3; l++) {
      const grant = await client.leaseGrant(600 + l);
      for (let k = 0; k < 5; k++) await put(`/lease/${l}/${k}`, value(), grant.ID);
    }
    const revision = await put('/hist/last', value());
    return { revision, compactRevision, liveKeys: live.size };
  } finally {
    client.close();
  }
}
