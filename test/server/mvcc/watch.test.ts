import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Event } from '../../../src/api/etcd-types.js';
import type { WatchSubscription } from '../../../src/server/mvcc/watch-hub.js';
import { Harness, ManualScheduler, b, rq, seededRandom } from '../apply/fixtures.js';

interface Received {
  batches: Array<{ revision: number; events: Event[] }>;
  compacted: number[];
}

function sub(key: string, rangeEnd = '', extra: Partial<WatchSubscription> = {}): WatchSubscription {
  return { key: b(key), rangeEnd: b(rangeEnd), startRevision: 0, prevKv: false, noPut: false, noDelete: false, ...extra };
}

function collector(accept: () => boolean = () => true): Received & { sink: { events(e: Event[], r: number): boolean; compacted(r: number): void } } {
  const received: Received = { batches: [], compacted: [] };
  return {
    ...received,
    sink: {
      events: (events, revision) => {
        received.batches.push({ revision, events });
        return accept();
      },
      compacted: (r) => received.compacted.push(r),
    },
  };
}

const describe = (e: Event): string => `${e.type} ${e.kv!.key.toString()}@${e.kv!.mod_revision}${e.prev_kv ? ` prev=${e.prev_kv.value.toString()}` : ''}`;

test('watch: live events of one revision arrive together, filtered by range and type, with prev_kv', () => {
  const h = new Harness();
  try {
    h.apply(rq.put('a/1', 'old'));
    const all = collector();
    const puts = collector();
    h.applier.watch(sub('a/', 'a0', { prevKv: true }), all.sink);
    h.applier.watch(sub('a/', 'a0', { noDelete: true }), puts.sink);
    const txn = rq.txn({ compare: [], success: [{ request: 'request_put', request_put: { key: b('a/1'), value: b('new'), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false } }, { request: 'request_delete_range', request_delete_range: { key: b('a/2'), range_end: b(''), prev_kv: false } }, { request: 'request_put', request_put: { key: b('b'), value: b('x'), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false } }], failure: [] });
    h.apply(rq.put('a/2', 'two'), txn, rq.del('a/1'));
    assert.deepEqual(
      all.batches.map((x) => [x.revision, x.events.map(describe)]),
      [
        [3, ['PUT a/2@3']],
        [4, ['PUT a/1@4 prev=old', 'DELETE a/2@4 prev=two']],
        [5, ['DELETE a/1@5 prev=new']],
      ],
    );
    assert.deepEqual(puts.batches.map((x) => x.events.map(describe)), [['PUT a/2@3'], ['PUT a/1@4']]);
  } finally {
    h.close();
  }
});

test('watch: catch-up from history in bounded steps then live, with no gap and no duplicate', () => {
  const scheduler = new ManualScheduler();
  const h = new Harness({ watchBatchLimit: 4, schedule: scheduler.schedule });
  try {
    const seed = Number(process.env['STRATA_SEED'] ?? 12345);
    const random = seededRandom(seed);
    const writes = () => {
      for (let i = 0; i < 5; i++) {
        const key = `k${Math.floor(random() * 6)}`;
        h.apply(random() < 0.8 ? rq.put(key, String(i)) : rq.del(key));
      }
    };
    writes();
    writes();
    const start = 3;
    const w = collector();
    const handle = h.applier.watch(sub('k', 'l', { startRevision: start }), w.sink);
    assert.equal(handle.synced, false);
    // Interleave catch-up steps with new writes until the watcher is live.
    for (let step = 0; scheduler.pending > 0; step++) {
      scheduler.run(1);
      if (step < 4) writes();
    }
    assert.equal(handle.synced, true);
    writes();
    const revisions = w.batches.flatMap((x) => x.events.map((e) => Number(e.kv!.mod_revision)));
    // Every revision from start to now that changed something appears, in order, once.
    const changing = new Set(revisions);
    assert.deepEqual([...changing].sort((x, y) => x - y), revisions, `ordered, no duplicates (seed ${seed})`);
    for (let r = start; r <= h.applier.currentRevision; r++) {
      const touched = h.applier.backend.db.prepare('SELECT count(*) AS n FROM rev WHERE main = ?').get(r) as { n: number };
      assert.equal(changing.has(r), touched.n > 0, `revision ${r} delivered iff it exists (seed ${seed})`);
    }
    assert.ok(revisions.length > 10);
  } finally {
    h.close();
  }
});

test('watch: a start revision below the compact revision gets a compacted notification', () => {
  const scheduler = new ManualScheduler();
  const h = new Harness({ schedule: scheduler.schedule });
  try {
    h.apply(rq.put('a', '1'), rq.put('a', '2'), rq.put('a', '3'), rq.compact(3));
    const early = collector();
    const atCompact = collector();
    h.applier.watch(sub('a', '', { startRevision: 2 }), early.sink);
    h.applier.watch(sub('a', '', { startRevision: 3 }), atCompact.sink);
    scheduler.run();
    assert.deepEqual(early.compacted, [3]);
    assert.deepEqual(early.batches, []);
    assert.deepEqual(atCompact.compacted, []);
    assert.deepEqual(atCompact.batches.map((x) => x.events.map(describe)), [['PUT a@3', 'PUT a@4']]);
  } finally {
    h.close();
  }
});

test('watch: a slow consumer pauses, misses nothing, and a compaction while paused cancels it', () => {
  const scheduler = new ManualScheduler();
  const h = new Harness({ schedule: scheduler.schedule });
  try {
    let accepting = false;
    const w = collector(() => accepting);
    const handle = h.applier.watch(sub('k'), w.sink);
    h.apply(rq.put('k', '1')); // delivered, then the consumer says "full"
    assert.equal(handle.synced, false);
    h.apply(rq.put('k', '2'), rq.put('k', '3'));
    assert.equal(w.batches.length, 1, 'nothing is delivered while paused');
    accepting = true;
    handle.resume();
    scheduler.run();
    assert.equal(handle.synced, true);
    h.apply(rq.put('k', '4'));
    assert.deepEqual(w.batches.flatMap((x) => x.events.map(describe)), ['PUT k@2', 'PUT k@3', 'PUT k@4', 'PUT k@5']);

    const other = collector(() => false);
    const paused = h.applier.watch(sub('k'), other.sink);
    h.apply(rq.put('k', '5'), rq.put('k', '6'), rq.put('k', '7'), rq.compact(8)); // `other` stopped after revision 6
    paused.resume();
    scheduler.run();
    assert.deepEqual(other.compacted, [8]);
    handle.cancel();
    h.apply(rq.put('k', '8'));
    assert.equal(w.batches.flatMap((x) => x.events).length, 7, 'a cancelled watcher gets nothing more');
  } finally {
    h.close();
  }
});

test('watch: watchers handed to the applier of a snapshot-installed backend catch up from there, then go live, nothing twice', () => {
  const scheduler = new ManualScheduler();
  const follower = new Harness({ schedule: scheduler.schedule });
  const leader = new Harness({ schedule: scheduler.schedule });
  try {
    for (const h of [follower, leader]) h.apply(rq.put('k1', 'a'), rq.put('k2', 'b'));
    const w = collector();
    const handle = follower.applier.watch(sub('k', 'l'), w.sink);
    follower.apply(rq.put('k1', 'seen-before'));
    // The leader went on without this follower; its backend is what the snapshot brings.
    leader.apply(rq.put('k1', 'seen-before'), rq.put('k3', 'c'), rq.del('k2'), rq.put('x', 'not watched'), rq.put('k1', 'd'));
    // As the server installs a snapshot: the old backend is closed first, its watches kept.
    follower.applier.close(true);
    follower.applier.moveWatchesTo(leader.applier);
    assert.equal(handle.synced, false);
    scheduler.run();
    assert.equal(handle.synced, true);
    leader.apply(rq.put('k4', 'live'));
    handle.cancel();
    leader.apply(rq.put('k5', 'after cancel'));
    assert.deepEqual(w.batches.flatMap((x) => x.events.map(describe)), ['PUT k1@4', 'PUT k3@5', 'DELETE k2@6', 'PUT k1@8', 'PUT k4@9']);
  } finally {
    rmSync(follower.dir, { recursive: true, force: true });
    leader.close();
  }
});
