// Watches against Debian etcd: events, many watches on one stream, resume after a restart, compaction.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from '../../src/api/etcd-types.js';
import { EtcdClient } from '../../src/client/client.js';
import { prefixRangeEnd } from '../../src/client/keys.js';
import type { WatchCancel } from '../../src/client/watch.js';
import { eventually, type EtcdProcess } from '../support/index.js';
import { etcdAndStrata } from '../e2e/strata-server.js';


const summary = (e: Event): string => `${e.type} ${e.kv?.key} ${e.kv?.value} @${e.kv?.mod_revision}`;

// The same suite runs against Debian's etcd and against strata server: one behaviour, two servers.
for (const server of etcdAndStrata) {
  describe(`watch against ${server.name}`, { skip: server.skip }, () => {
    let etcd: EtcdProcess;
    let client: EtcdClient;

    before(async () => {
      etcd = await server.start();
      client = new EtcdClient({ endpoints: [etcd.endpoint], retry: { baseDelayMs: 20, maxDelayMs: 200, maxRounds: 30 } });
    });
    after(async () => {
      client?.close();
      await etcd?.stop();
    });

    test('puts and deletes reach every watch on one stream, with prev_kv', async () => {
      const stream = client.watchStream();
      try {
        const onPrefix: Event[] = [];
        const onKey: Event[] = [];
        const prefixWatch = stream.watch({ key: 'w/', range_end: prefixRangeEnd('w/'), prev_kv: true });
        const keyWatch = stream.watch({ key: 'w/a' });
        prefixWatch.on('events', (events) => onPrefix.push(...events));
        keyWatch.on('events', (events) => onKey.push(...events));
        await Promise.all([new Promise((r) => prefixWatch.once('created', r)), new Promise((r) => keyWatch.once('created', r))]);
        const p1 = await client.put({ key: 'w/a', value: '1' });
        const p2 = await client.put({ key: 'w/b', value: '2' });
        const d = await client.deleteRange({ key: 'w/a' });
        await eventually(() => onPrefix.length === 3 && onKey.length === 2, 'three prefix events and two key events');
        assert.deepEqual(onPrefix.map(summary), [
          `PUT w/a 1 @${p1.header!.revision}`,
          `PUT w/b 2 @${p2.header!.revision}`,
          `DELETE w/a  @${d.header!.revision}`,
        ]);
        assert.equal(onPrefix[2]!.prev_kv?.value.toString(), '1');
        assert.deepEqual(onKey.map((e) => e.type), ['PUT', 'DELETE']);
        await keyWatch.cancel();
        await client.put({ key: 'w/a', value: 'after-cancel' });
        await eventually(() => onPrefix.length === 4, 'the prefix watch to see the put after the other was cancelled');
        assert.equal(onKey.length, 2);
      } finally {
        stream.close();
      }
    });

    test('a watch resumes after the server restarts: every revision once, in order', async () => {
      const stream = client.watchStream();
      try {
        const seen: string[] = [];
        const watch = stream.watch({ key: 'r/', range_end: prefixRangeEnd('r/') });
        watch.on('events', (events) => seen.push(...events.map((e) => e.kv!.mod_revision)));
        await new Promise((r) => watch.once('created', r));
        const written: string[] = [];
        const writeSome = async (from: number): Promise<void> => {
          for (let i = from; i < from + 20; i++) written.push((await client.put({ key: `r/${i % 3}`, value: String(i) })).header!.revision);
        };
        await writeSome(0);
        await etcd.halt();
        await etcd.restart();
        // These land while the stream is down or reconnecting: only a resume from the last
        // revision seen + 1 delivers them exactly once.
        await writeSome(20);
        await eventually(() => seen.length >= written.length, `${written.length} events (have ${seen.length})`);
        assert.deepEqual(seen, written);
        assert.ok(stream.reconnectCount >= 1, 'the stream was re-opened');
      } finally {
        stream.close();
      }
    });

    test('a watch from a compacted revision is cancelled with the compact revision', async () => {
      const put = await client.put({ key: 'c/k', value: '1' });
      await client.put({ key: 'c/k', value: '2' });
      await client.compact(put.header!.revision);
      const stream = client.watchStream();
      try {
        const watch = stream.watch({ key: 'c/k', start_revision: '1' });
        const cancel = await new Promise<WatchCancel>((resolve) => watch.once('canceled', resolve));
        assert.equal(cancel.compactRevision, BigInt(put.header!.revision));
      } finally {
        stream.close();
      }
    });

    test('progress notifications on request', async () => {
      const stream = client.watchStream();
      try {
        const watch = stream.watch({ key: 'p/k' });
        await new Promise((r) => watch.once('created', r));
        const progress = new Promise<bigint>((resolve) => watch.once('progress', resolve));
        stream.requestProgress();
        assert.ok((await progress) > 0n);
      } finally {
        stream.close();
      }
    });
  });
}
