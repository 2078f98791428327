import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient } from '../../../src/client/client.js';
import { findCompactRevision } from '../../../src/snapshot/sources/compact-revision.js';
import { etcdAndStrata } from '../../e2e/strata-server.js';

for (const server of etcdAndStrata) {
  test(`the compact revision found with one-key reads is the one the server reports in HashKV (${server.name})`, { skip: server.skip }, async (t) => {
    const etcd = await server.start();
    t.after(() => etcd.stop());
    const client = new EtcdClient({ endpoints: [etcd.endpoint] });
    t.after(() => client.close());
    const probe = Buffer.from('/probe/never-written');
    const reported = async (): Promise<number> => Number((await client.hashKV('0')).compact_revision);

    for (let i = 0; i < 40; i++) await client.put({ key: `/k/${i % 7}`, value: `v${i}` });
    const head = Number((await client.put({ key: '/k/last', value: 'x' })).header!.revision);
    assert.equal(await findCompactRevision(client, probe, head), 0, 'never compacted');
    assert.ok((await reported()) <= 1, 'the server agrees that nothing was compacted');

    // Compactions at the low edge, in the middle, an odd and an even revision, and at the head.
    for (const at of [2, 3, 17, 30, head]) {
      await client.compact(String(at));
      assert.equal(await reported(), at, `the server reports the compaction at ${at}`);
      assert.equal(await findCompactRevision(client, probe, head), at, `compacted at ${at} of ${head}`);
    }
    // Later writes leave the search's upper end above the compaction.
    const later = Number((await client.put({ key: '/k/later', value: 'y' })).header!.revision);
    assert.equal(await findCompactRevision(client, probe, later), head);
  });
}
