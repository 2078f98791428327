import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../../src/api/etcd-errors.js';
import type { ApplyEntry } from '../../../src/server/apply/internal-request.js';
import { Harness, op, putReq, rangeReq, rq, txnReq } from './fixtures.js';

const etcdError = (name: string) => (err: unknown) => err instanceof EtcdError && err.etcdName === name;

test('apply: the consistent index commits with the batch, and replaying applied entries changes nothing', () => {
  const h = new Harness();
  try {
    const entries: ApplyEntry[] = [
      { index: 1, request: rq.put('a', '1') },
      { index: 2, request: rq.put('a', '2') },
      { index: 3, request: rq.del('a') },
      { index: 4, request: rq.put('b', '1') },
    ];
    h.applier.applyBatch(entries.slice(0, 2));
    assert.equal(h.applier.consistentIndex, 2);
    const hash = h.applier.hashKV(0).hash;
    h.reopen();
    assert.equal(h.applier.consistentIndex, 2);
    // The loop replays everything in its WAL after a crash: 1 and 2 are skipped.
    const replay = h.applier.applyBatch(entries);
    assert.deepEqual(replay.map((r) => r.skipped ?? false), [true, true, false, false]);
    assert.equal(h.applier.consistentIndex, 4);
    assert.deepEqual(h.get('\0', '\0'), ['b=1@5/5/1']);
    h.applier.applyBatch(entries);
    assert.deepEqual(h.get('\0', '\0'), ['b=1@5/5/1']);
    assert.notEqual(h.applier.hashKV(0).hash, hash);
  } finally {
    h.close();
  }
});

test('apply: one result per entry; a failing entry changes nothing and the batch goes on', () => {
  const h = new Harness();
  try {
    const results = h.apply(
      rq.put('a', '1'),
      rq.put('b', '1', { lease: '42' }),
      rq.txn(txnReq([], [op.put(putReq('c', '1')), op.put(putReq('d', '1', { ignore_value: true }))])),
      rq.put('e', '1'),
    );
    assert.deepEqual(results.map((r) => r.revision), [2, 2, 2, 3]);
    assert.ok(etcdError('leaseNotFound')(results[1]!.error));
    assert.ok(etcdError('keyNotFound')(results[2]!.error));
    assert.deepEqual(h.get('\0', '\0').map((s) => s.split('=')[0]), ['a', 'e']);
  } finally {
    h.close();
  }
});

test('apply: NOSPACE refuses puts, writing txns and lease grants until deactivated; alarms persist', () => {
  const h = new Harness();
  try {
    const member = 0xabcdef0123456789n;
    const activated = h.one({ kind: 'alarm', action: 'ACTIVATE', memberId: member, alarm: 'NOSPACE' });
    assert.deepEqual(activated.response, { kind: 'alarm', alarms: [{ memberID: member.toString(), alarm: 'NOSPACE' }] });
    assert.ok(etcdError('noSpace')(h.one(rq.put('a', '1')).error));
    assert.ok(etcdError('noSpace')(h.one(rq.grant(1n, 10)).error));
    assert.ok(etcdError('noSpace')(h.one(rq.txn(txnReq([], [op.put(putReq('a', '1'))]))).error));
    assert.equal(h.one(rq.txn(txnReq([], [op.range(rangeReq('a'))]))).error, undefined, 'read-only txns pass');
    assert.equal(h.one(rq.del('a')).error, undefined, 'deletes free space and pass');
    h.reopen();
    assert.deepEqual(h.applier.alarms(), [{ memberID: member.toString(), alarm: 'NOSPACE' }]);
    const got = h.one({ kind: 'alarm', action: 'GET', memberId: 0n, alarm: 'NONE' });
    assert.deepEqual(got.response, { kind: 'alarm', alarms: [{ memberID: member.toString(), alarm: 'NOSPACE' }] });
    h.one({ kind: 'alarm', action: 'DEACTIVATE', memberId: member, alarm: 'NOSPACE' });
    assert.equal(h.one(rq.put('a', '1')).error, undefined);
    const none = h.one({ kind: 'alarm', action: 'DEACTIVATE', memberId: member, alarm: 'NOSPACE' });
    assert.deepEqual(none.response, { kind: 'alarm', alarms: [] });
  } finally {
    h.close();
  }
});

test('apply: quota check, sizes, defragment, sync and the backend hash', async () => {
  const h = new Harness({ quotaBackendBytes: 4 * 1024 * 1024 });
  try {
    assert.equal(h.applier.quotaAvailable(1024), true);
    assert.equal(h.applier.quotaAvailable(8 * 1024 * 1024), false);
    const big = 'x'.repeat(4096);
    h.applier.applyBatch(Array.from({ length: 300 }, (_, i) => ({ index: ++h.index, request: rq.put(`k${i}`, big) })));
    const hash = h.applier.hash();
    assert.ok(h.applier.dbSize() > 300 * 4096);
    h.one(rq.del('k', 'l'));
    h.one(rq.compact(h.applier.currentRevision));
    await h.applier.sync();
    const afterDelete = h.applier.hash();
    assert.notEqual(afterDelete, hash);
    const beforeDefragment = h.applier.dbSize();
    await h.applier.defragment();
    assert.equal(h.applier.hash(), afterDelete);
    assert.ok(h.applier.dbSize() < beforeDefragment / 4, `defragment gave the deleted values' space back (${beforeDefragment} -> ${h.applier.dbSize()} bytes)`);
    assert.ok(h.applier.dbSizeInUse() <= h.applier.dbSize());
  } finally {
    h.close();
  }
});

test('apply: a read-only open serves reads and refuses writes', () => {
  const h = new Harness();
  try {
    h.apply(rq.put('a', '1'));
    const reader = h.open({ readOnly: true });
    try {
      assert.deepEqual(reader.range(rangeReq('a')).kvs.map((kv) => kv.value.toString()), ['1']);
      assert.equal(reader.hashKV(0).hash, h.applier.hashKV(0).hash);
      assert.throws(() => reader.applyBatch([{ index: 99, request: rq.put('b', '1') }]), /read-only/);
    } finally {
      reader.close();
    }
  } finally {
    h.close();
  }
});
