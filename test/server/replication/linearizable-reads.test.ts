import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinearizableReads } from '../../../src/server/replication/linearizable-reads.js';

function harness(hasLeader = true) {
  const requested: Uint8Array[] = [];
  const state = { applied: 0, hasLeader };
  const reads = new LinearizableReads(
    { readIndex: (ctx) => requested.push(ctx), hasLeader: () => state.hasLeader, appliedIndex: () => state.applied },
    60_000,
  );
  return { reads, requested, state };
}

test('reads arriving during a ReadIndex round share the next one, and each waits until its index is applied', async () => {
  const { reads, requested, state } = harness();
  const done: number[] = [];
  const a = reads.wait().then(() => done.push(1));
  const b = reads.wait().then(() => done.push(2));
  const c = reads.wait().then(() => done.push(3));
  assert.equal(requested.length, 1, 'one round at a time');
  reads.onReadStates([{ index: 10, requestCtx: requested[0]! }]);
  assert.equal(requested.length, 2, 'the waiting reads start the next round as soon as one answers');
  reads.onReadStates([{ index: 12, requestCtx: requested[1]! }]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(done, [], 'nothing is served before the read index is applied');
  state.applied = 10;
  reads.onApplied();
  await a;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(done, [1]);
  state.applied = 12;
  reads.onApplied();
  await Promise.all([b, c]);
  assert.deepEqual(done.sort(), [1, 2, 3]);
  assert.equal(requested.length, 2, 'no round without readers');
});

test('a read state for another request is ignored; no leader is etcd\'s error at once; failAll rejects every reader', async () => {
  const { reads, requested } = harness();
  const pending = reads.wait();
  reads.onReadStates([{ index: 1, requestCtx: new Uint8Array(8) }]);
  reads.failAll(new Error('stopped'));
  await assert.rejects(pending, /stopped/);
  assert.equal(requested.length, 1);
  await assert.rejects(harness(false).reads.wait(), /etcdserver: no leader/);
});
