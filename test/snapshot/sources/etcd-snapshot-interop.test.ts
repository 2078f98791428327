// Live interop: Debian's etcd makes history, `etcdctl snapshot save` writes the file, and what
// we read from it must equal what etcd answers over its API at the same revision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../../../src/api/etcd-proto.js';
import { openEtcdSnapshot } from '../../../src/snapshot/sources/etcd-snapshot.js';
import { missingBinary, runEtcdctl, seededRandom, startEtcd, tempDir } from '../../support/index.js';
import { keysByLease, liveKeys } from './etcd-fixture.js';

type Unary = (request: object, callback: (err: grpc.ServiceError | null, response: unknown) => void) => void;

/** A promisified unary call on a grpc-js client; responses use etcd-proto.ts's conventions (int64 as strings). */
function call<T>(client: grpc.Client, method: string, request: object): Promise<T> {
  const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client);
  return promisify(fn)(request) as Promise<T>;
}

interface Header {
  header: { revision: string };
}
interface WireKv {
  key: Buffer;
  value: Buffer;
  create_revision: string;
  mod_revision: string;
  version: string;
  lease: string;
}

async function hashkv(endpoint: string, revision: number): Promise<{ hash: number; compact_revision: number }> {
  const result = await runEtcdctl(['--endpoints', endpoint, 'endpoint', 'hashkv', '--rev', String(revision), '-w', 'json']);
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { HashKV: { hash: number; compact_revision: number } }[])[0]!.HashKV;
}

test('a snapshot saved by etcdctl reads back as exactly what etcd serves', { skip: missingBinary('etcd', 'etcdctl'), timeout: 120_000 }, async (t) => {
  const seed = Number(process.env['STRATA_TEST_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const random = seededRandom(seed);
  const context = `(seed ${seed})`;
  const etcd = await startEtcd({ name: 'interop' });
  t.after(() => etcd.stop());
  const services = etcdServices();
  const kv = new services.KV(etcd.endpoint, grpc.credentials.createInsecure());
  const lease = new services.Lease(etcd.endpoint, grpc.credentials.createInsecure());
  const cluster = new services.Cluster(etcd.endpoint, grpc.credentials.createInsecure());
  t.after(() => [kv, lease, cluster].forEach((c) => c.close()));

  const key = (i: number): Buffer => Buffer.from(`/interop/k/${String(i).padStart(4, '0')}`);
  const value = (): Buffer => {
    const length = random() < 0.05 ? 4200 + Math.floor(random() * 5000) : 1 + Math.floor(random() * 300);
    return Buffer.alloc(length, 97 + Math.floor(random() * 26));
  };
  let revision = 0;
  const put = async (k: Buffer, v: Buffer, leaseId = '0'): Promise<void> => {
    revision = Number((await call<Header>(kv, 'Put', { key: k, value: v, lease: leaseId })).header.revision);
  };
  const del = async (k: Buffer): Promise<void> => {
    revision = Number((await call<Header>(kv, 'DeleteRange', { key: k })).header.revision);
  };

  const keys = 160;
  for (let i = 0; i < keys; i++) await put(key(i), value());
  const granted = await call<{ ID: string }>(lease, 'LeaseGrant', { TTL: '900', ID: '0' });
  for (let i = 0; i < 4; i++) await put(Buffer.from(`/interop/leased/${i}`), Buffer.from(`v${i}`), granted.ID);
  for (let i = 0; i < 80; i++) await put(key(Math.floor(random() * keys)), value());
  for (let i = 0; i < 20; i++) await del(key(Math.floor(random() * keys)));
  const txn = await call<Header>(kv, 'Txn', {
    compare: [],
    success: [1, 2, 3].map((i) => ({ request_put: { key: Buffer.from(`/interop/txn/${i}`), value: Buffer.from('t') } })),
    failure: [],
  });
  revision = Number(txn.header.revision);
  const compactRevision = revision - 30;
  await call(kv, 'Compact', { revision: String(compactRevision), physical: true });
  for (let i = 0; i < 40; i++) await put(key(Math.floor(random() * keys)), value());
  for (let i = 0; i < 8; i++) await del(key(Math.floor(random() * keys)));
  await put(key(0), Buffer.from('again'));

  const range = await call<{ kvs: WireKv[]; count: string }>(kv, 'Range', { key: Buffer.from([0]), range_end: Buffer.from([0]) });
  const members = await call<{ members: { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }[] }>(
    cluster,
    'MemberList',
    {},
  );
  const hashes = [await hashkv(etcd.endpoint, revision), await hashkv(etcd.endpoint, compactRevision + 1)];
  const path = join(tempDir('etcd-interop', t).path, 'snapshot.db');
  const saved = await runEtcdctl(['--endpoints', etcd.endpoint, 'snapshot', 'save', path]);
  assert.equal(saved.code, 0, saved.stderr);

  const snapshot = await openEtcdSnapshot(path);
  try {
    assert.ok(snapshot.sha256, `etcdctl's file carries the SHA-256 trailer ${context}`);
    assert.equal(snapshot.revision, revision, context);
    assert.equal(snapshot.compactRevision, compactRevision, context);
    assert.equal(await snapshot.keyCount(), Number(range.count), context);
    const live = await liveKeys(snapshot);
    assert.deepEqual(
      [...live.values()].sort((a, b) => Buffer.compare(a.key, b.key)).map((v) => ({ ...v, lease: v.lease.toString() })),
      range.kvs.map((w) => ({
        key: w.key,
        createRevision: Number(w.create_revision),
        modRevision: Number(w.mod_revision),
        version: Number(w.version),
        value: w.value,
        lease: w.lease,
      })),
      `every key and value at revision ${revision} ${context}`,
    );
    assert.deepEqual(await snapshot.hashKV(), { hash: hashes[0]!.hash, revision, compactRevision: hashes[0]!.compact_revision }, context);
    assert.equal((await snapshot.hashKV(compactRevision + 1)).hash, hashes[1]!.hash, `hashkv --rev ${compactRevision + 1} ${context}`);
    assert.deepEqual(
      snapshot.leases.map((l) => [l.id.toString(), l.ttl]),
      [[BigInt(granted.ID).toString(), 900]],
      context,
    );
    assert.deepEqual(keysByLease(live).get(BigInt(granted.ID).toString()), [0, 1, 2, 3].map((i) => `/interop/leased/${i}`));
    assert.deepEqual(
      snapshot.members.map((m) => ({ ...m, id: m.id.toString() })),
      members.members.map((m) => ({ id: m.ID, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner })),
      context,
    );
  } finally {
    await snapshot.close();
  }
});
