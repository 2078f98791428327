import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeKeyValue } from '../../../src/api/mvccpb.js';
import { hashByRev, scanKeep, type HashableRevision } from '../../../src/snapshot/sources/etcd-hashkv.js';
import { referenceHashKv } from '../../support/hashkv-reference.js';

/** A stored revision as etcd writes it: puts carry the full KeyValue, tombstones only the key. */
function rev(main: number, key: string, op: { put: number; created: number } | 'delete', sub = 0): HashableRevision {
  const kv =
    op === 'delete'
      ? { key: Buffer.from(key), createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n }
      : { key: Buffer.from(key), createRevision: op.created, modRevision: main, version: op.put, value: Buffer.from(`${key}@${main}`), lease: 0n };
  return { main, sub, tombstone: op === 'delete', kv, value: encodeKeyValue(kv) };
}

function stream(revisions: HashableRevision[]): () => AsyncIterable<HashableRevision> {
  return async function* () {
    yield* revisions;
  };
}

function expectedHash(revisions: HashableRevision[]): number {
  return referenceHashKv(revisions);
}

// What a store compacted at 4 keeps: a@2 and b@3 (their latest puts); history goes on after it.
const a2 = rev(2, 'a', { put: 1, created: 2 });
const b3 = rev(3, 'b', { put: 1, created: 3 });
const a5 = rev(5, 'a', { put: 2, created: 2 });
const c6 = rev(6, 'c', { put: 1, created: 6 });
const b7 = rev(7, 'b', 'delete');
const image = [a2, b3, a5, c6, b7];

test('a revision kept by compaction counts only while it is still its key\'s latest (Keep(atRev))', async () => {
  assert.equal(await hashByRev(stream(image), 4, 4), expectedHash([a2, b3]));
  assert.equal(await hashByRev(stream(image), 5, 4), expectedHash([b3, a5]));
  assert.equal(await hashByRev(stream(image), 6, 4), expectedHash([b3, a5, c6]));
  // b's latest at 7 is a tombstone: Keep leaves b3 out.
  assert.equal(await hashByRev(stream(image), 7, 4), expectedHash([a5, c6, b7]));
});

test('when no key is alive Keep is empty and nothing is skipped', async () => {
  const gone = [a2, b3, rev(5, 'a', 'delete'), rev(6, 'b', 'delete')];
  assert.equal(await hashByRev(stream(gone), 6, 4), expectedHash(gone));
  assert.equal((await scanKeep(stream(gone)(), 6, 4)).liveKeys, 0);
});

test('without a compaction every revision up to atRev counts', async () => {
  assert.equal(await hashByRev(stream(image), 6, 0), expectedHash([a2, b3, a5, c6]));
});

test('scanKeep counts the keys alive at a revision', async () => {
  assert.deepEqual(await scanKeep(stream(image)(), 6, 4), { kept: new Set(['3_0']), liveKeys: 3 });
  assert.deepEqual(await scanKeep(stream(image)(), 7, 4), { kept: new Set(), liveKeys: 2 });
  assert.deepEqual(await scanKeep(stream(image)(), 4, 4), { kept: new Set(['2_0', '3_0']), liveKeys: 2 });
});
