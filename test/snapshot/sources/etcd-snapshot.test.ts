import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareRevisions } from '../../../src/api/revision.js';
import { UsageError } from '../../../src/util/errors.js';
import { BboltDb } from '../../../src/snapshot/sources/bbolt/bbolt-db.js';
import { ArchiveReader } from '../../../src/archive/index.js';
import { etcdImageArchive } from '../../../src/snapshot/sources/etcd-archive.js';
import { isEtcdSnapshotFile, openEtcdSnapshot } from '../../../src/snapshot/sources/etcd-snapshot.js';
import { silentLogger } from '../../../src/util/log.js';
import { tempDir } from '../../support/index.js';
import { fixtureExpectation, fixturePath, keysByLease, liveKeys } from './etcd-fixture.js';
import { referenceHashKv } from '../../support/hashkv-reference.js';

const expected = fixtureExpectation();

test('the real etcd snapshot gives the revision, compact revision and key count etcd reported', async () => {
  const snapshot = await openEtcdSnapshot(fixturePath);
  try {
    assert.equal(snapshot.revision, expected.revision);
    assert.equal(snapshot.compactRevision, expected.compactRevision);
    assert.equal(snapshot.scheduledCompactRevision, expected.compactRevision);
    assert.equal(snapshot.finishedCompactRevision, expected.compactRevision, 'the fixture compacts with --physical');
    assert.equal(await snapshot.keyCount(), expected.keyCount);
    assert.equal((await liveKeys(snapshot)).size, expected.keyCount);
    assert.match(snapshot.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(snapshot.fileBytes, statSync(fixturePath).size);
    assert.equal(snapshot.dbBytes + 32, snapshot.fileBytes);
    assert.ok(snapshot.consistentIndex !== undefined && snapshot.consistentIndex > BigInt(expected.revision), 'consistent index counts raft entries');
  } finally {
    await snapshot.close();
  }
});

test('revisions stream in order, tombstones marked, each a KeyValue whose mod revision is its revision', async () => {
  const snapshot = await openEtcdSnapshot(fixturePath);
  try {
    let previous: { main: number; sub: number } | undefined;
    let tombstones = 0;
    let multiOp = 0;
    let overPage = 0;
    for await (const r of snapshot.revisions()) {
      if (previous) assert.ok(compareRevisions(r, previous) > 0, `${r.main}_${r.sub} after ${previous.main}_${previous.sub}`);
      previous = r;
      if (r.tombstone) tombstones++;
      else assert.equal(r.kv.modRevision, r.main);
      if (r.sub > 0) multiOp++;
      if (r.value.length > 4096) overPage++;
      assert.ok(r.main <= expected.revision);
      if (r.main <= expected.compactRevision) assert.ok(!r.tombstone, 'compaction removes tombstones at or below it');
    }
    assert.equal(previous?.main, expected.revision);
    assert.ok(tombstones > 0, 'the fixture holds deletes');
    assert.ok(multiOp > 0, 'the fixture holds a multi-op txn (sub revisions)');
    assert.ok(overPage > 0, 'the fixture holds values larger than a page (overflow pages)');
  } finally {
    await snapshot.close();
  }
});

test("hashKV equals etcd's endpoint hashkv at every revision the fixture recorded", async () => {
  const snapshot = await openEtcdSnapshot(fixturePath);
  try {
    for (const h of expected.hashKV) {
      assert.deepEqual(await snapshot.hashKV(h.revision), h, `hashkv --rev ${h.revision}`);
    }
    assert.deepEqual(await snapshot.hashKV(), expected.hashKV.find((h) => h.revision === expected.revision));
  } finally {
    await snapshot.close();
  }
});

test('the fixture exercises the Keep rule: hashing every revision up to the snapshot revision gives another hash', async () => {
  // Guards the fixture itself: were the naive hash equal, the test above would not tell
  // whether compacted revisions are filtered the way etcd 3.4's HashByRev does.
  const snapshot = await openEtcdSnapshot(fixturePath);
  try {
    const all = [];
    for await (const r of snapshot.revisions()) all.push(r);
    assert.notEqual(referenceHashKv(all), expected.hashKV[0]!.hash);
  } finally {
    await snapshot.close();
  }
});

test('hashKV refuses revisions the image cannot answer for, as etcd does', async () => {
  const snapshot = await openEtcdSnapshot(fixturePath);
  try {
    const range = `revisions ${expected.compactRevision + 1}..${expected.revision}`;
    for (const revision of [expected.compactRevision, expected.revision + 1, 0, 1.5]) {
      await assert.rejects(snapshot.hashKV(revision), (err: unknown) => err instanceof UsageError && err.message.includes(range));
    }
  } finally {
    await snapshot.close();
  }
});

test('leases, members and cluster version come out of their buckets; the cluster ID is not in an image', async () => {
  const snapshot = await openEtcdSnapshot(fixturePath);
  try {
    const attached = keysByLease(await liveKeys(snapshot));
    assert.deepEqual(
      snapshot.leases.map((l) => ({ id: l.id.toString(), grantedTTL: l.ttl, keys: attached.get(l.id.toString()) ?? [] })),
      expected.leases,
    );
    assert.ok(snapshot.leases.every((l) => l.remainingTtl === 0), 'etcd 3.4 persists remaining TTLs only with lease checkpoints');
    assert.deepEqual(
      snapshot.members.map((m) => ({ ...m, id: m.id.toString() })),
      expected.members,
    );
    assert.deepEqual(snapshot.removedMemberIds, []);
    assert.equal(snapshot.clusterVersion, '3.4.0');
    assert.equal(snapshot.clusterId, undefined);
    assert.equal(snapshot.auth.enabled, false);
    assert.deepEqual(snapshot.alarms, []);
    assert.deepEqual(snapshot.bucketNames, ['alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta']);
  } finally {
    await snapshot.close();
  }
});

test("fileStatus equals `etcdctl snapshot status -w json` of the same file", async () => {
  const snapshot = await openEtcdSnapshot(fixturePath);
  try {
    assert.deepEqual(await snapshot.fileStatus(), expected.etcdctlSnapshotStatus);
  } finally {
    await snapshot.close();
  }
});

test('the bbolt tree of the fixture: branch pages, inline buckets, every page used once', async () => {
  const db = await BboltDb.open(fixturePath, { length: statSync(fixturePath).size - 32 });
  try {
    assert.equal(db.pageSize, 4096);
    const key = await db.bucket('key');
    const meta = await db.bucket('meta');
    assert.ok(key && key.inline === undefined, 'the key bucket has pages of its own');
    assert.ok(meta && meta.inline !== undefined, 'the meta bucket is inline');
    assert.equal(await db.bucket('nope'), undefined);
    const check = await db.check();
    assert.equal(check.keys, expected.etcdctlSnapshotStatus.totalKey + 10, 'keys plus the 10 bucket names');
    // 445 revisions of up to ~9 KiB cannot sit in one leaf: the key bucket's root is a branch.
    assert.ok(check.usedPages.length > 3);
    const last = await db.lastEntry(key);
    assert.equal(last?.key.readBigUInt64BE(0), BigInt(expected.revision));
  } finally {
    await db.close();
  }
});

test('without its trailer the image still opens (a member db file) and gives the same hash', async (t) => {
  const dir = tempDir('bbolt-notrailer', t);
  const path = join(dir.path, 'db');
  copyFileSync(fixturePath, path);
  truncateSync(path, statSync(fixturePath).size - 32);
  const snapshot = await openEtcdSnapshot(path);
  try {
    assert.equal(snapshot.sha256, undefined);
    assert.equal((await snapshot.hashKV()).hash, expected.hashKV[0]!.hash);
  } finally {
    await snapshot.close();
  }
});

test('isEtcdSnapshotFile tells a bbolt image from other files', async (t) => {
  assert.equal(await isEtcdSnapshotFile(fixturePath), true);
  const dir = tempDir('bbolt-sniff', t);
  const other = join(dir.path, 'x.tar.zst');
  copyFileSync(join(fixturePath, '..', 'snapshot.expected.json'), other);
  assert.equal(await isEtcdSnapshotFile(other), false);
});

test('history() of an image whose compaction finished is every stored revision', async () => {
  const snapshot = await openEtcdSnapshot(fixturePath);
  try {
    type Id = { main: number; sub: number; tombstone: boolean };
    const ids = async (batches: AsyncIterable<Id[]>): Promise<string[]> => {
      const out: string[] = [];
      for await (const batch of batches) for (const r of batch) out.push(`${r.main}_${r.sub}${r.tombstone ? 't' : ''}`);
      return out;
    };
    const all: string[] = [];
    for await (const r of snapshot.revisions()) all.push(`${r.main}_${r.sub}${r.tombstone ? 't' : ''}`);
    assert.deepEqual(await ids(snapshot.revisionBatches()), all);
    assert.deepEqual(await ids(snapshot.history()), all);
    assert.equal(all.length, expected.etcdctlSnapshotStatus.totalKey - 8, 'key bucket entries: all keys but meta (3), lease (2), members, cluster, auth');
  } finally {
    await snapshot.close();
  }
});

/**
 * The fixture with its scheduled compaction moved up to `scheduled` while the finished one stays
 * (an image taken while etcd was still deleting): the meta value is patched in place and the
 * SHA-256 trailer rewritten.
 */
function unfinishedCompactionImage(dir: string, scheduled: number): string {
  const image = readFileSync(fixturePath).subarray(0, -32);
  const name = Buffer.from('scheduledCompactRev');
  // Freed pages may hold older copies of the meta bucket: patch every copy, the live one among them.
  let patched = 0;
  for (let at = image.indexOf(name); at !== -1; at = image.indexOf(name, at + 1)) {
    const value = image.subarray(at + name.length, at + name.length + 17);
    if (Number(value.readBigUInt64BE(0)) !== expected.compactRevision) continue;
    value.writeBigUInt64BE(BigInt(scheduled), 0);
    patched++;
  }
  assert.ok(patched > 0, 'the meta bucket holds scheduledCompactRev');
  const path = join(dir, 'unfinished.db');
  writeFileSync(path, Buffer.concat([image, createHash('sha256').update(image).digest()]));
  return path;
}

test('an image taken while a compaction was still deleting: history and the archive keep, up to the scheduled revision, only each key\'s newest put', async (t) => {
  const scheduled = 529;
  const path = unfinishedCompactionImage(tempDir('unfinished-compaction', t).path, scheduled);
  const snapshot = await openEtcdSnapshot(path);
  const newest = new Map<string, { id: string; tombstone: boolean }>();
  const want: string[] = [];
  let stored = 0;
  for await (const r of snapshot.revisions()) {
    stored++;
    const id = `${r.main}_${r.sub}`;
    if (r.main <= scheduled) newest.set(r.kv.key.toString('latin1'), { id, tombstone: r.tombstone });
    else want.push(id);
  }
  const kept = [...newest.values()].filter((r) => !r.tombstone).map((r) => r.id);
  want.unshift(...kept.sort((a, b) => compareRevisions(parseId(a), parseId(b))));
  assert.equal(snapshot.compactRevision, scheduled);
  assert.ok(snapshot.finishedCompactRevision! < scheduled);

  const history: string[] = [];
  for await (const batch of snapshot.history()) for (const r of batch) history.push(`${r.main}_${r.sub}`);
  assert.deepEqual(history, want);
  assert.ok(history.length < stored, 'the patched range holds revisions the compaction drops');

  const archive = await etcdImageArchive(snapshot, {
    toolVersion: 'test',
    source: { kind: 'etcd', endpoints: [], endpoint: path, clusterId: '0', memberId: '0', serverVersion: '3.4' },
    logger: silentLogger,
    release: () => snapshot.close(),
  });
  const reader = await ArchiveReader.open(archive.output);
  const archived: string[] = [];
  for await (const r of reader.records()) archived.push(`${r.main}_${r.sub}`);
  await reader.finish();
  await archive.done;
  assert.equal(reader.manifest.compactRevision, scheduled);
  assert.deepEqual(archived, want);
});

function parseId(id: string): { main: number; sub: number } {
  const [main, sub] = id.split('_').map(Number);
  return { main: main!, sub: sub! };
}
