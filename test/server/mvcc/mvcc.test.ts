import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../../src/api/etcd-errors.js';
import { Harness, ManualScheduler, cmp, delReq, op, putReq, rangeReq, rq, txnReq } from '../apply/fixtures.js';

const etcdError = (name: string) => (err: unknown) => err instanceof EtcdError && err.etcdName === name;

test('mvcc: revisions, versions, create revisions and tombstone generations follow etcd', () => {
  const h = new Harness();
  try {
    assert.equal(h.applier.currentRevision, 1);
    h.apply(rq.put('k', 'v1'), rq.put('k', 'v2'), rq.del('k'), rq.put('k', 'v3'));
    assert.deepEqual(h.get('k'), ['k=v3@5/5/1']); // a new generation after the tombstone
    assert.deepEqual(h.get('k', '', { revision: '3' }), ['k=v2@3/2/2']);
    assert.deepEqual(h.get('k', '', { revision: '4' }), []);
    const noop = h.one(rq.del('missing'));
    assert.equal(noop.revision, 5, 'a delete of nothing does not take a revision');
    assert.equal(h.applier.currentRevision, 5);
  } finally {
    h.close();
  }
});

test('mvcc: range options: prefix and "\\0" ends, limit/more/count, sorts, filters, keys_only, count_only, errors', () => {
  const h = new Harness();
  try {
    h.apply(rq.put('a', '3'), rq.put('b', '1'), rq.put('c', '2'), rq.put('b', '4'), rq.put('d/x', '0'));
    // revisions: a@2, b@3, c@4, b@5 (v2), d/x@6
    assert.deepEqual(h.get('a', '\0').length, 4);
    assert.deepEqual(h.get('b', 'd'), ['b=4@5/3/2', 'c=2@4/4/1']);
    const limited = h.applier.range(rangeReq('a', '\0', { limit: '2' }));
    assert.equal(limited.more, true);
    assert.equal(limited.count, '4');
    assert.equal(limited.revision, 6);
    assert.deepEqual(limited.kvs.map((kv) => kv.key.toString()), ['a', 'b']);
    const countOnly = h.applier.range(rangeReq('a', '\0', { count_only: true }));
    assert.deepEqual([countOnly.kvs.length, countOnly.count, countOnly.more], [0, '4', false]);
    const keysOnly = h.applier.range(rangeReq('a', '\0', { keys_only: true }));
    assert.ok(keysOnly.kvs.every((kv) => kv.value.length === 0));
    assert.deepEqual(h.get('a', '\0', { sort_order: 'DESCEND', limit: '2' }).map((s) => s[0]), ['d', 'c']);
    // A non-KEY target with order NONE sorts ascending.
    assert.deepEqual(h.get('a', '\0', { sort_target: 'VALUE' }).map((s) => s[0]), ['d', 'c', 'a', 'b']);
    assert.deepEqual(h.get('a', '\0', { sort_target: 'MOD', sort_order: 'DESCEND' }).map((s) => s[0]), ['d', 'b', 'c', 'a']);
    // Filters apply after fetching, before the limit; count stays the number of keys in range.
    const filtered = h.applier.range(rangeReq('a', '\0', { min_mod_revision: '4', limit: '1' }));
    assert.deepEqual([filtered.kvs.map((kv) => kv.key.toString()), filtered.more, filtered.count], [['b'], true, '4']);
    assert.deepEqual(h.get('a', '\0', { max_create_revision: '3' }).map((s) => s[0]), ['a', 'b']);
    assert.deepEqual(h.get('a', '\0', { min_create_revision: '4', max_mod_revision: '4' }).map((s) => s[0]), ['c']);
    // Historical read sees the old value of b.
    assert.deepEqual(h.get('b', '', { revision: '4' }), ['b=1@3/3/1']);
    assert.throws(() => h.applier.range(rangeReq('a', '', { revision: '7' })), etcdError('futureRev'));
    h.one(rq.compact(4));
    assert.deepEqual(h.get('b', '', { revision: '4' }), ['b=1@3/3/1'], 'a read at the compact revision works, as in etcd');
    assert.throws(() => h.applier.range(rangeReq('a', '', { revision: '3' })), etcdError('compacted'));
  } finally {
    h.close();
  }
});

test('mvcc: put options: prev_kv, ignore_value, ignore_lease, and their errors', () => {
  const h = new Harness();
  try {
    h.one(rq.grant(7n, 100));
    const first = h.one(rq.put('k', 'v', { lease: '7', prev_kv: true }));
    assert.equal(first.response?.kind === 'put' && first.response.put.prev_kv, null);
    const second = h.one(rq.put('k', '', { ignore_value: true, prev_kv: true }));
    assert.ok(second.response?.kind === 'put');
    assert.equal(second.response.put.prev_kv?.value.toString(), 'v');
    assert.equal(h.applier.range(rangeReq('k')).kvs[0]?.value.toString(), 'v');
    assert.equal(h.applier.range(rangeReq('k')).kvs[0]?.lease, '0', 'ignore_value alone replaces the lease');
    h.one(rq.put('k', 'w', { lease: '7' }));
    h.one(rq.put('k', 'x', { ignore_lease: true }));
    assert.equal(h.applier.range(rangeReq('k')).kvs[0]?.lease, '7');
    assert.ok(etcdError('keyNotFound')(h.one(rq.put('nope', '', { ignore_value: true })).error));
    assert.ok(etcdError('leaseNotFound')(h.one(rq.put('k', 'v', { lease: '99' })).error));
    const del = h.one(rq.del('k', '', true));
    assert.ok(del.response?.kind === 'deleteRange');
    assert.deepEqual([del.response.deleteRange.deleted, del.response.deleteRange.prev_kvs[0]?.value.toString()], ['1', 'x']);
  } finally {
    h.close();
  }
});

test('mvcc: txn: compares on missing keys and ranges, one revision, reads see earlier writes, nested txns, failed checks change nothing', () => {
  const h = new Harness();
  try {
    h.apply(rq.put('a', '1'), rq.put('b', '2'));
    // Missing key: version/create/mod compare as 0; VALUE always fails.
    const missing = h.one(rq.txn(txnReq([cmp('zz', 'VERSION', 'EQUAL', 0), cmp('zz', 'CREATE', 'LESS', 1)], [op.put(putReq('z', 'ok'))])));
    assert.ok(missing.response?.kind === 'txn' && missing.response.txn.succeeded);
    const value = h.one(rq.txn(txnReq([cmp('zz', 'VALUE', 'NOT_EQUAL', 'x')], [], [op.put(putReq('y', 'failure branch'))])));
    assert.ok(value.response?.kind === 'txn' && !value.response.txn.succeeded);
    // A range compare: every key must match.
    const ranged = h.one(rq.txn(txnReq([cmp('a', 'VERSION', 'EQUAL', 1, 'c')], [op.put(putReq('r', 'all v1'))])));
    assert.ok(ranged.response?.kind === 'txn' && ranged.response.txn.succeeded);
    const before = h.applier.currentRevision;
    const multi = h.one(
      rq.txn(
        txnReq(
          [],
          [
            op.put(putReq('m1', 'x')),
            op.range(rangeReq('m1')),
            op.del(delReq('a', '', true)),
            op.txn(txnReq([cmp('b', 'VALUE', 'EQUAL', '2')], [op.put(putReq('n', 'nested'))])),
          ],
        ),
      ),
    );
    assert.equal(multi.revision, before + 1, 'one revision for the whole txn');
    assert.ok(multi.response?.kind === 'txn');
    const [putResp, rangeResp, delResp, nested] = multi.response.txn.responses;
    assert.equal(putResp?.response_put?.header?.revision, String(before + 1));
    assert.equal(rangeResp?.response_range?.kvs[0]?.value.toString(), 'x', 'a range in the txn sees its earlier put');
    assert.equal(delResp?.response_delete_range?.deleted, '1');
    assert.equal(nested?.response_txn?.succeeded, true);
    assert.deepEqual(h.get('n'), [`n=nested@${before + 1}/${before + 1}/1`]);
    // A nested compare is evaluated against the state before the txn, not after its writes.
    const pre = h.one(
      rq.txn(txnReq([], [op.put(putReq('p', '1')), op.txn(txnReq([cmp('p', 'VERSION', 'EQUAL', 0)], [op.put(putReq('q', 'saw before'))]))])),
    );
    assert.ok(pre.response?.kind === 'txn' && pre.response.txn.responses[1]?.response_txn?.succeeded === true);
    // Checks fail the whole txn before anything is written.
    const rev = h.applier.currentRevision;
    const bad = h.one(rq.txn(txnReq([], [op.put(putReq('t', '1')), op.put(putReq('u', '1', { lease: '123' }))])));
    assert.ok(etcdError('leaseNotFound')(bad.error));
    const future = h.one(rq.txn(txnReq([], [op.put(putReq('t', '1')), op.range(rangeReq('t', '', { revision: String(rev + 5) }))])));
    assert.ok(etcdError('futureRev')(future.error));
    assert.equal(h.applier.currentRevision, rev);
    assert.deepEqual(h.get('t'), []);
    // A txn that only reads takes no revision.
    assert.equal(h.one(rq.txn(txnReq([], [op.range(rangeReq('a'))]))).revision, rev);
  } finally {
    h.close();
  }
});

test('mvcc: compaction keeps exactly what etcd keeps, survives a crash half-way and resumes on open', async () => {
  const scheduler = new ManualScheduler();
  const h = new Harness({ compactionBatchLimit: 3, schedule: scheduler.schedule });
  try {
    for (let i = 0; i < 10; i++) h.apply(rq.put(`k${i % 4}`, `v${i}`));
    h.apply(rq.del('k1'), rq.put('k1', 'again'), rq.del('k2'));
    // revisions 2..11 puts, 12 del k1, 13 put k1, 14 del k2
    const target = 12;
    const result = h.one(rq.compact(target));
    assert.ok(result.done);
    assert.ok(etcdError('compacted')(h.one(rq.compact(target)).error));
    assert.ok(etcdError('futureRev')(h.one(rq.compact(99)).error));
    scheduler.run(2); // two batches of three, then "crash"
    h.reopen({ schedule: scheduler.schedule });
    scheduler.run();
    await Promise.resolve();
    const rows = h.applier.backend.db
      .prepare('SELECT main, sub, tomb FROM rev ORDER BY main, sub')
      .all() as Array<{ main: number; tomb: number }>;
    // At or below 12 only each key's latest put survives: k0@10, k3@9, and k2@8 (deleted later,
    // at 14); k1's latest is its tombstone at 12, so all of k1's history up to 12 goes.
    assert.deepEqual(
      rows.map((r) => `${r.main}${r.tomb ? 't' : ''}`),
      ['8', '9', '10', '13', '14t'],
    );
    assert.equal(h.applier.meta.getNumber('finished_compact_revision'), target);
    assert.equal(h.applier.hashKV(0).compactRevision, target);
    assert.throws(() => h.applier.hashKV(target), etcdError('compacted'));
  } finally {
    h.close();
  }
});

test('mvcc: HashKV is the same before and after physical compaction, and after a restart', async () => {
  const h = new Harness({ compactionBatchLimit: 2 });
  try {
    for (let i = 0; i < 30; i++) h.apply(i % 7 === 3 ? rq.del(`k${i % 5}`) : rq.put(`k${i % 5}`, `v${i}`));
    const compaction = h.one(rq.compact(20));
    const logical = h.applier.hashKV(25);
    await compaction.done;
    assert.deepEqual(h.applier.hashKV(25), logical);
    h.reopen();
    assert.deepEqual(h.applier.hashKV(25), logical);
    assert.throws(() => h.get('k', 'l', { revision: '19' }), etcdError('compacted'));
  } finally {
    h.close();
  }
});
