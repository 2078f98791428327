// A seeded MVCC history written through the API: puts, overwrites, deletes, a compaction in the
// middle (with keys the compaction kept written again afterwards), and leases with keys.
import { EtcdClient } from '../../src/client/client.js';
import { seededRandom } from '../support/index.js';

export interface WrittenHistory {
  revision: number;
  compactRevision: number;
  liveKeys: number;
}

export async function writeHistory(endpoint: string, options: { seed: number; keys: number }): Promise<WrittenHistory> {
  const random = seededRandom(options.seed);
  const client = new EtcdClient({ endpoints: [endpoint], requestTimeoutMs: 20_000 });
  try {
    const live = new Set<string>();
    const put = async (key: string, lease?: string): Promise<number> => {
      const res = await client.put({ key, value: `v${Math.floor(random() * 1e9)}`, ...(lease !== undefined ? { lease } : {}) });
      live.add(key);
      return Number(res.header?.revision);
    };
    const name = (i: number): string => `/hist/${String(i).padStart(6, '0')}`;
    for (let i = 0; i < options.keys; i++) await put(name(i));
    for (let i = 0; i < options.keys / 4; i++) await put(name(Math.floor(random() * options.keys)));
    for (let i = 0; i < options.keys / 10; i++) {
      const key = name(Math.floor(random() * options.keys));
      await client.deleteRange({ key });
      live.delete(key);
    }
    const compactRevision = await put('/hist/marker');
    await client.compact(String(compactRevision), true);
    for (let i = 0; i < options.keys / 4; i++) await put(name(Math.floor(random() * options.keys)));
    for (let l = 0; l < 3; l++) {
      const grant = await client.leaseGrant(600 + l);
      for (let k = 0; k < 5; k++) await put(`/lease/${l}/${k}`, grant.ID);
    }
    const revision = await put('/hist/last');
    return { revision, compactRevision, liveKeys: live.size };
  } finally {
    client.close();
  }
}
