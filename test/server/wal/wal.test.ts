import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Wal } from '../../../src/server/wal/wal.js';
import type { WalEntry } from '../../../src/server/wal/types.js';
import { makeEntry, normalize, replayAll } from './helpers.js';
import { tempDir } from '../../support/tmp.js';
import { seededRandom } from '../../support/random.js';

const META = Buffer.from('cluster=1 member=2');

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
}

test('create, append many across segment cuts, reopen: replay equals what was appended', async (t) => {
  const seed = 0x5eed1;
  const random = seededRandom(seed);
  const dir = tempDir('wal', t).path;
  const walDir = join(dir, 'wal');
  const wal = await Wal.create(walDir, META, { segmentBytes: 4096 });
  const appended: WalEntry[] = [];
  let index = 1;
  let hardState = { term: 1, vote: 0xfedcba9876543210n, commit: 0 };
  const calls: Array<Promise<void>> = [];
  while (index <= 600) {
    const group: WalEntry[] = [];
    const n = 1 + Math.floor(random() * 5);
    for (let i = 0; i < n; i++) group.push(makeEntry(index++, 1 + Math.floor(index / 200), Math.floor(random() * 300)));
    appended.push(...group);
    hardState = { ...hardState, commit: index - 1 };
    calls.push(wal.append(group, hardState));
    if (random() < 0.3) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
  assert.ok(wal.stats.segmentsCut >= 10, `seed ${seed}: expected many cuts, got ${wal.stats.segmentsCut}`);
  await wal.close();
  assert.equal((await segmentFiles(walDir)).length, wal.stats.segmentsCut + 1);

  const { wal: reopened, replay } = await Wal.open(walDir);
  assert.deepEqual(replay.metadata, META);
  assert.deepEqual(replay.hardState, hardState);
  assert.equal(replay.snapshot, undefined);
  const last = appended.length;
  assert.equal(replay.lastIndex, last);
  assert.deepEqual(normalize(await replayAll(replay, 1000)), normalize(appended), `seed ${seed}`);
  await reopened.append([makeEntry(last + 1)]);
  await reopened.close();
  const again = await Wal.open(walDir);
  assert.equal((await replayAll(again.replay)).length, last + 1);
  await again.wal.close();
});

test('replay batches are bounded by maxBatchBytes', async (t) => {
  const dir = tempDir('wal', t).path;
  const wal = await Wal.create(join(dir, 'wal'), META, { segmentBytes: 8192 });
  await wal.append(Array.from({ length: 100 }, (_, i) => makeEntry(i + 1, 1, 100)));
  await wal.close();
  const { wal: reopened, replay } = await Wal.open(join(dir, 'wal'));
  const sizes: number[] = [];
  for await (const batch of replay.entries(1000)) sizes.push(batch.length);
  assert.deepEqual(sizes, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
  await reopened.close();
});

test('entries re-appended from index i replace the old tail on replay, also across segments', async (t) => {
  const dir = tempDir('wal', t).path;
  const walDir = join(dir, 'wal');
  const wal = await Wal.create(walDir, META, { segmentBytes: 1024 });
  await wal.append(Array.from({ length: 40 }, (_, i) => makeEntry(i + 1, 1, 64)));
  // A new leader (term 2) overwrites from 15, reaching back into an earlier segment.
  await wal.append([makeEntry(15, 2), makeEntry(16, 2), makeEntry(17, 2)]);
  // …and another (term 3) from 17 again, in the same segment as the previous overwrite.
  await wal.append([makeEntry(17, 3), makeEntry(18, 3)]);
  await wal.close();
  const expected = [
    ...Array.from({ length: 14 }, (_, i) => makeEntry(i + 1, 1, 64)),
    makeEntry(15, 2),
    makeEntry(16, 2),
    makeEntry(17, 3),
    makeEntry(18, 3),
  ];
  const { wal: reopened, replay } = await Wal.open(walDir);
  assert.equal(replay.lastIndex, 18);
  assert.equal(reopened.lastIndex, 18);
  assert.deepEqual(normalize(await replayAll(replay)), normalize(expected));
  await reopened.append([makeEntry(19, 3)]);
  await reopened.close();
  const again = await Wal.open(walDir);
  assert.deepEqual(normalize(await replayAll(again.replay)), normalize([...expected, makeEntry(19, 3)]));
  await again.wal.close();
});

test('an append that would leave a gap is refused', async (t) => {
  const dir = tempDir('wal', t).path;
  const wal = await Wal.create(join(dir, 'wal'), META);
  await wal.append([makeEntry(1), makeEntry(2)]);
  await assert.rejects(wal.append([makeEntry(4)]), /gap after 2/);
  await assert.rejects(wal.append([makeEntry(3), makeEntry(5)]), /does not follow/);
  await wal.close();
});

test('a snapshot marker hides older entries; releaseTo deletes segments below it and keeps the one holding it', async (t) => {
  const dir = tempDir('wal', t).path;
  const walDir = join(dir, 'wal');
  const wal = await Wal.create(walDir, META, { segmentBytes: 2048 });
  for (let i = 1; i <= 300; i += 10) await wal.append(Array.from({ length: 10 }, (_, k) => makeEntry(i + k, 1, 50)));
  const before = await segmentFiles(walDir);
  await wal.saveSnapshotMarker(1, 200);
  await wal.releaseTo(250);
  const after = await segmentFiles(walDir);
  assert.ok(after.length < before.length && after.length > 1, `${before.length} → ${after.length}`);
  const firstKept = Number.parseInt(after[0]!.split('-')[1]!, 16);
  assert.ok(firstKept <= 200, `the kept segment starts at ${firstKept}, past the snapshot`);
  await wal.append([makeEntry(301)]);
  await wal.close();

  const { wal: reopened, replay } = await Wal.open(walDir);
  assert.deepEqual(replay.snapshot, { term: 1, index: 200 });
  assert.deepEqual(normalize(await replayAll(replay)), normalize(Array.from({ length: 101 }, (_, i) => makeEntry(201 + i, 1, i === 100 ? 16 : 50))));
  await reopened.close();
});

test('entries may continue past a snapshot marker beyond the log (a follower installing a snapshot)', async (t) => {
  const dir = tempDir('wal', t).path;
  const walDir = join(dir, 'wal');
  const wal = await Wal.create(walDir, META);
  await wal.append([makeEntry(1), makeEntry(2)]);
  await wal.saveSnapshotMarker(5, 100);
  await wal.append([makeEntry(101, 5), makeEntry(102, 5)], { term: 5, vote: 3n, commit: 102 });
  await wal.close();
  const { wal: reopened, replay } = await Wal.open(walDir);
  assert.equal(replay.lastIndex, 102);
  assert.deepEqual(replay.hardState, { term: 5, vote: 3n, commit: 102 });
  assert.deepEqual(normalize(await replayAll(replay)), normalize([makeEntry(101, 5), makeEntry(102, 5)]));
  await reopened.close();
});

test('group commit: 200 concurrent appends share a handful of fdatasyncs', async (t) => {
  const dir = tempDir('wal', t).path;
  const wal = await Wal.create(join(dir, 'wal'), META);
  const base = wal.stats;
  await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append([makeEntry(i + 1)])));
  const { appends, syncs, writes } = wal.stats;
  assert.equal(appends - base.appends, 200);
  assert.ok(syncs - base.syncs <= 3, `200 appends took ${syncs - base.syncs} fdatasyncs`);
  assert.equal(writes - base.writes, syncs - base.syncs);
  await wal.close();
});

test('a hard state that only moves the commit index is written without its own sync; entries and a new term or vote are synced', async (t) => {
  const walDir = join(tempDir('wal', t).path, 'wal');
  const wal = await Wal.create(walDir, META);
  const syncs = (): number => wal.stats.syncs;
  const start = syncs();
  await wal.append([makeEntry(1, 1)], { term: 1, vote: 7n, commit: 0 });
  assert.equal(syncs(), start + 1, 'entries are synced');
  await wal.append([], { term: 1, vote: 7n, commit: 1 });
  assert.equal(syncs(), start + 1, 'a commit-only hard state waits for the next sync');
  await wal.append([], { term: 2, vote: 0n, commit: 1 });
  assert.equal(syncs(), start + 2, 'a new term is synced');
  await wal.append([], { term: 2, vote: 9n, commit: 1 });
  assert.equal(syncs(), start + 3, 'a new vote is synced');
  await wal.saveSnapshotMarker(2, 1);
  assert.equal(syncs(), start + 4, 'a snapshot marker is synced');
  await wal.append([], { term: 2, vote: 9n, commit: 2 });
  assert.equal(syncs(), start + 4);
  await wal.close();
  assert.equal(wal.stats.syncs, start + 5, 'close syncs what was only written');
  const { wal: reopened, replay } = await Wal.open(walDir);
  assert.deepEqual(replay.hardState, { term: 2, vote: 9n, commit: 2 });
  await reopened.close();
});

test('a segment is cut only after what was written to the one before is synced', async (t) => {
  const walDir = join(tempDir('wal', t).path, 'wal');
  const wal = await Wal.create(walDir, META, { segmentBytes: 4096 });
  await wal.append([makeEntry(1, 1, 3500)], { term: 1, vote: 0n, commit: 0 });
  // Commit-only hard states, each written without a sync, until one lands past the segment's end.
  let before = wal.stats;
  while (wal.stats.segmentsCut === before.segmentsCut) {
    before = wal.stats;
    await wal.append([], { term: 1, vote: 0n, commit: 1 });
  }
  // The cut syncs the tail it leaves behind, then the new segment's file and directory.
  assert.equal(wal.stats.syncs - before.syncs, 3);
  await wal.close();
  const { wal: reopened, replay } = await Wal.open(walDir);
  assert.deepEqual(replay.hardState, { term: 1, vote: 0n, commit: 1 });
  assert.equal((await replayAll(replay)).length, 1);
  await reopened.close();
});

test('create refuses a dir that already holds a WAL; open names a dir without one', async (t) => {
  const dir = tempDir('wal', t).path;
  const walDir = join(dir, 'wal');
  await (await Wal.create(walDir, META)).close();
  await assert.rejects(Wal.create(walDir, META), /already holds one/);
  await assert.rejects(Wal.open(join(dir, 'nothing')), { code: 'STRATA_WAL_MISSING' });
});

test('a malformed hard state or oversized entry is refused up front and the WAL keeps working', async (t) => {
  const dir = tempDir('wal', t).path;
  const wal = await Wal.create(join(dir, 'wal'), META);
  await assert.rejects(wal.append([makeEntry(1)], { term: 1, vote: -1n, commit: 1 }), /not a uint64 member ID/);
  await assert.rejects(wal.append([makeEntry(1)], { term: 1.5, vote: 1n, commit: 1 }), /hard state term 1.5/);
  await wal.append([makeEntry(1)], { term: 1, vote: 2n ** 64n - 1n, commit: 1 });
  await wal.close();
  const { wal: reopened, replay } = await Wal.open(join(dir, 'wal'));
  assert.deepEqual(replay.hardState, { term: 1, vote: 2n ** 64n - 1n, commit: 1 });
  await reopened.close();
});
