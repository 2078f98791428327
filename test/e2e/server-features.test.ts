// The bundled server's behaviours that etcd users rely on beyond plain reads and writes:
// lease expiry as a logged delete, watch filters and fragmentation, the NOSPACE alarm and its
// recovery, and the metrics/health endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Event } from '../../src/api/etcd-types.js';
import { EtcdClient } from '../../src/client/client.js';
import { EtcdRequestError } from '../../src/client/errors.js';
import { freePort, tempDir } from '../support/index.js';
import { startStrataServer, type StrataServerProcess } from './strata-server.js';

async function withServer(
  t: { after(fn: () => unknown): void },
  extraArgs: string[],
  body: (client: EtcdClient, server: StrataServerProcess) => Promise<void>,
): Promise<void> {
  const dir = tempDir('features', t);
  const server = await startStrataServer({ dataDir: join(dir.path, 'd'), extraArgs });
  t.after(() => server.stop());
  const client = new EtcdClient({ endpoints: [server.endpoint] });
  t.after(() => client.close());
  await body(client, server);
}

/** Collects a watch's events until `count` have arrived. */
function collect(client: EtcdClient, input: Parameters<ReturnType<EtcdClient['watchStream']>['watch']>[0], count: number) {
  const stream = client.watchStream();
  const events: Event[] = [];
  let responses = 0;
  const watch = stream.watch(input);
  const created = new Promise<void>((resolve) => watch.once('created', () => resolve()));
  const done = new Promise<Event[]>((resolve) => {
    watch.on('events', (batch: Event[]) => {
      responses++;
      events.push(...batch);
      if (events.length >= count) resolve(events);
    });
  });
  return { created, done, responses: () => responses, close: () => stream.close() };
}

test('an expired lease is revoked through the log: its keys are deleted and watchers see it', async (t) => {
  await withServer(t, [], async (client) => {
    const lease = await client.leaseGrant(2);
    await client.put({ key: 'session/a', value: 'x', lease: lease.ID });
    await client.put({ key: 'session/b', value: 'y', lease: lease.ID });
    const watch = collect(client, { key: 'session/', range_end: 'session0' }, 2);
    await watch.created;
    const deletes = await watch.done;
    watch.close();
    assert.deepEqual(deletes.map((e) => `${e.type} ${e.kv?.key}`), ['DELETE session/a', 'DELETE session/b']);
    assert.equal(deletes[0]!.kv!.mod_revision, deletes[1]!.kv!.mod_revision, 'one revision for the whole revoke');
    assert.equal((await client.range({ key: 'session/', range_end: 'session0' })).count, '0');
    assert.equal((await client.leaseTimeToLive(lease.ID)).TTL, '-1', 'the lease is gone');
  });
});

test('watch filters drop puts or deletes; a large revision arrives in fragments, joined by the client', async (t) => {
  await withServer(t, ['--max-request-bytes', '20000'], async (client) => {
    const noPut = collect(client, { key: 'f/', range_end: 'f0', filters: ['NOPUT'] }, 1);
    const noDelete = collect(client, { key: 'f/', range_end: 'f0', filters: ['NODELETE'] }, 1);
    await Promise.all([noPut.created, noDelete.created]);
    await client.put({ key: 'f/one', value: '1' });
    await client.deleteRange({ key: 'f/one' });
    assert.deepEqual((await noPut.done).map((e) => e.type), ['DELETE']);
    assert.deepEqual((await noDelete.done).map((e) => e.type), ['PUT']);
    noPut.close();
    noDelete.close();

    const value = Buffer.alloc(1000, 'v');
    for (let i = 0; i < 60; i++) await client.put({ key: `g/${String(i).padStart(2, '0')}`, value });
    const big = collect(client, { key: 'g/', range_end: 'g0', prev_kv: true, fragment: true }, 60);
    await big.created;
    await client.deleteRange({ key: 'g/', range_end: 'g0' });
    const events = await big.done;
    big.close();
    assert.equal(events.length, 60);
    assert.ok(events.every((e) => e.type === 'DELETE' && e.prev_kv?.value.length === 1000));
    assert.equal(big.responses(), 1, 'the fragments of one revision reach the application as one batch');
  });
});

test('over the backend quota: NOSPACE alarm, writes refused, recovery after compaction, defragment and disarm', async (t) => {
  await withServer(t, ['--quota-backend-bytes', '600000'], async (client, server) => {
    const value = Buffer.alloc(4000, 'q');
    let refused: unknown;
    for (let i = 0; i < 2000 && refused === undefined; i++) {
      try {
        await client.put({ key: `q/${i % 50}`, value });
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused instanceof EtcdRequestError, `writes are refused once the quota is exceeded: ${String(refused)}`);
    assert.equal(refused.message, 'etcdserver: mvcc: database space exceeded');
    // As etcd, the server has raised the alarm through the log before it refused the write.
    const alarms = await client.alarm('GET');
    assert.deepEqual(alarms.alarms.map((a) => a.alarm), ['NOSPACE']);
    // Reads and deletes still work under the alarm.
    assert.equal((await client.range({ key: 'q/0' })).count, '1');
    const status = await client.status();
    await client.compact(status.header!.revision, true);
    await client.defragment();
    await client.alarm('DEACTIVATE', alarms.alarms[0]!.memberID, 'NOSPACE');
    await client.put({ key: 'q/after', value: 'fits again' });
    assert.equal((await client.alarm('GET')).alarms.length, 0);
    assert.match(server.running.stderr, /NOSPACE/);
  });
});

test('/metrics and /health on --listen-metrics-urls', async (t) => {
  const port = await freePort();
  await withServer(t, ['--listen-metrics-urls', `http://127.0.0.1:${port}`], async (client) => {
    await client.put({ key: 'm', value: '1' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^etcd_server_has_leader 1$/m);
    assert.match(metrics, /^etcd_server_proposals_committed_total [1-9]\d*$/m);
    assert.match(metrics, /^etcd_mvcc_db_total_size_in_bytes \d+$/m);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { health: 'true', reason: '' });
  });
});
