import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeKeyValue } from '../../../src/api/mvccpb.js';
import type { HashableRevision } from '../../../src/api/revision.js';
import { LastRevisionHashKv } from '../../../src/archive/last-revision-hash-kv.js';
import { hashByRev, scanKeep } from '../../../src/snapshot/sources/etcd-hashkv.js';
import { seededRandom } from '../../support/index.js';
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

test('scanKeep says which compacted revisions Keep holds and counts the keys alive at a revision', async () => {
  const kept = async (atRev: number): Promise<{ kept: number[]; liveKeys: number }> => {
    const keep = await scanKeep(stream(image)(), atRev, 4);
    const keeps = keep.pass();
    return { kept: [a2, b3].filter((r) => keeps(r)).map((r) => r.main), liveKeys: keep.liveKeys };
  };
  assert.deepEqual(await kept(6), { kept: [3], liveKeys: 3 });
  assert.deepEqual(await kept(7), { kept: [], liveKeys: 2 });
  assert.deepEqual(await kept(4), { kept: [2, 3], liveKeys: 2 });
  // Keep holds a key's latest revision only, not an older one of the same key.
  const older = rev(1, 'a', { put: 1, created: 1 });
  const newer = rev(2, 'a', { put: 2, created: 1 });
  const keeps = (await scanKeep(stream([older, newer])(), 4, 4)).pass();
  assert.deepEqual([keeps(older), keeps(newer)], [false, true]);
});

/** The one-pass hash with its per-key state in memory; asserts that it is the same through temporary files. */
async function oneHashKv(revisions: HashableRevision[], compactRev: number): Promise<number> {
  const [inMemory, spilled] = [{}, { memoryBytes: 1 }].map((options) => {
    const hasher = new LastRevisionHashKv(compactRev, options);
    for (const r of revisions) hasher.add(r.main, r.sub, r.tombstone, r.kv, r.value);
    return hasher.digest(referenceHashKv(revisions));
  });
  assert.equal(spilled, inMemory, 'the same hash with the keys in temporary files');
  return inMemory!;
}

test('in one pass, the last revision\'s HashKV leaves out each kept revision whose key was written or deleted again', async () => {
  for (let last = 4; last <= 7; last++) {
    const history = image.filter((r) => r.main <= last);
    assert.equal(await oneHashKv(history, 4), await hashByRev(stream(history), last, 4), `history up to ${last}`);
  }
  assert.equal(await oneHashKv(image, 4), expectedHash([a5, c6, b7]));
  const gone = [a2, b3, rev(5, 'a', 'delete'), rev(6, 'b', 'delete')];
  assert.equal(await oneHashKv(gone, 4), expectedHash(gone), 'no key alive: nothing skipped');
  assert.equal(await oneHashKv(image, 0), expectedHash(image), 'no compaction: everything counts');
});

/** 5 to 30 revisions of up to 6 keys from `random`: puts, and deletes of live keys. */
function randomHistory(random: () => number): HashableRevision[] {
  const keys = 1 + Math.floor(random() * 6);
  const versions = new Map<string, { created: number; version: number }>();
  const all: HashableRevision[] = [];
  for (let main = 2; main < 2 + 5 + Math.floor(random() * 25); main++) {
    const key = `k${Math.floor(random() * keys)}`;
    const alive = versions.get(key);
    if (alive !== undefined && random() < 0.3) {
      versions.delete(key);
      all.push(rev(main, key, 'delete'));
    } else {
      const next = alive === undefined ? { created: main, version: 1 } : { created: alive.created, version: alive.version + 1 };
      versions.set(key, next);
      all.push(rev(main, key, { put: next.version, created: next.created }));
    }
  }
  return all;
}

test('the one-pass HashKV equals the two-pass one on seeded random compacted histories', async () => {
  const seed = Number(process.env.STRATA_TEST_SEED ?? 0x4a5b);
  const random = seededRandom(seed);
  for (let round = 0; round < 200; round++) {
    const all = randomHistory(random);
    const last = all.at(-1)!.main;
    const compactRev = Math.floor(random() * last);
    // What a finished compaction leaves: at or below it, each key's newest revision when a put.
    const newest = new Map<string, HashableRevision>();
    for (const r of all) if (r.main <= compactRev) newest.set(r.kv.key.toString(), r);
    const thinned = all.filter((r) => r.main > compactRev || (newest.get(r.kv.key.toString()) === r && !r.tombstone));
    assert.equal(await oneHashKv(thinned, compactRev), await hashByRev(stream(thinned), last, compactRev), `seed ${seed}, round ${round}`);
  }
});

test('hashByRev equals Keep(atRev) built the plain way on seeded random histories that compaction has not thinned', async () => {
  const seed = Number(process.env.STRATA_TEST_SEED ?? 0x5eed);
  const random = seededRandom(seed);
  for (let round = 0; round < 200; round++) {
    const all = randomHistory(random);
    const last = all.at(-1)!.main;
    const compactRev = Math.floor(random() * last);
    const atRev = compactRev + 1 + Math.floor(random() * (last - compactRev));
    // Keep(atRev): each key's latest revision up to atRev, unless a tombstone.
    const latest = new Map<string, HashableRevision>();
    for (const r of all) if (r.main <= atRev) latest.set(r.kv.key.toString(), r);
    const keep = new Set([...latest.values()].filter((r) => !r.tombstone));
    const counted = all.filter((r) => r.main <= atRev && (r.main > compactRev || keep.size === 0 || keep.has(r)));
    assert.equal(await hashByRev(stream(all), atRev, compactRev), expectedHash(counted), `seed ${seed}, round ${round}`);
  }
});
