import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../../src/api/etcd-errors.js';
import { minLeaseTtl } from '../../../src/server/lease/lessor.js';
import { Harness, rangeReq, rq } from '../apply/fixtures.js';

const etcdError = (name: string) => (err: unknown) => err instanceof EtcdError && err.etcdName === name;

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('lease: minimum TTL from the election timeout, too-large TTL, duplicate ID', () => {
  assert.equal(minLeaseTtl(1000), 2);
  assert.equal(minLeaseTtl(5000), 8);
  const h = new Harness({ minLeaseTtl: 3 });
  try {
    const granted = h.one(rq.grant(1n, 1));
    assert.deepEqual(granted.response, { kind: 'leaseGrant', id: 1n, ttl: 3 });
    assert.ok(etcdError('leaseExist')(h.one(rq.grant(1n, 10)).error));
    assert.ok(etcdError('leaseTTLTooLarge')(h.one(rq.grant(2n, 9_000_000_001)).error));
    assert.equal(h.one(rq.grant(3n, 9_000_000_000)).error, undefined);
    assert.equal(h.applier.currentRevision, 1, 'lease grants take no revision');
  } finally {
    h.close();
  }
});

test('lease: attach on put, detach on overwrite and delete; revoke deletes its keys in key order in one revision', () => {
  const h = new Harness();
  try {
    const id = 0x7fff_ffff_ffff_fff0n; // full 64-bit IDs stay exact
    h.apply(rq.grant(id, 60), rq.put('z', '1', { lease: id.toString() }), rq.put('a', '1', { lease: id.toString() }));
    h.apply(rq.put('m', '1', { lease: id.toString() }), rq.put('m', '2'), rq.put('q', '1', { lease: id.toString() }), rq.del('q'));
    assert.deepEqual(h.applier.leaseTimeToLive(id, true).keys.map(String), ['a', 'z']);
    const events: string[] = [];
    h.applier.watch(
      { key: Buffer.from('\0'), rangeEnd: Buffer.from('\0'), startRevision: 0, prevKv: false, noPut: false, noDelete: false },
      { events: (evs, rev) => void events.push(`${rev}:${evs.map((e) => `${e.type} ${e.kv!.key.toString()}`).join(',')}`), compacted: () => undefined },
    );
    const before = h.applier.currentRevision;
    const revoked = h.one(rq.revoke(id));
    assert.equal(revoked.revision, before + 1);
    assert.deepEqual(events, [`${before + 1}:DELETE a,DELETE z`]);
    assert.deepEqual(h.get('\0', '\0').map((s) => s.split('=')[0]), ['m']);
    assert.ok(etcdError('leaseNotFound')(h.one(rq.revoke(id)).error));
    assert.throws(() => h.applier.leaseTimeToLive(id, false), etcdError('leaseNotFound'));
    // A lease with no keys revokes without a revision.
    h.one(rq.grant(5n, 60));
    assert.equal(h.one(rq.revoke(5n)).revision, h.applier.currentRevision);
  } finally {
    h.close();
  }
});

test('lease: renew, time to live, expiry order; leases survive a restart with a fresh expiry', () => {
  const clock = manualClock();
  const h = new Harness({ clock: clock.now, minLeaseTtl: 1 });
  try {
    h.apply(rq.grant(10n, 10), rq.grant(20n, 5), rq.put('k', 'v', { lease: '10' }));
    clock.advance(2500);
    assert.deepEqual(h.applier.leaseTimeToLive(10n, false), { ttl: 7, grantedTtl: 10, keys: [] });
    assert.deepEqual(h.applier.leases().map((l) => l.id), [20n, 10n]);
    assert.deepEqual(h.applier.expiredLeases(), []);
    clock.advance(3000);
    assert.deepEqual(h.applier.expiredLeases(), [20n]);
    assert.throws(() => h.applier.leaseRenew(20n), etcdError('leaseNotFound'), 'an expired lease waits for its revoke');
    assert.equal(h.applier.leaseRenew(10n), 10);
    assert.equal(h.applier.leaseTimeToLive(10n, false).ttl, 10);
    assert.throws(() => h.applier.leaseRenew(99n), etcdError('leaseNotFound'));
    h.apply({ kind: 'leaseCheckpoint', checkpoints: [{ id: 10n, remainingTtl: 4 }] });
    clock.advance(60_000);
    h.reopen({ clock: clock.now });
    // On open every lease restarts its clock: lease 10 from its checkpointed 4 s, lease 20 from its full 5 s.
    assert.equal(h.applier.leaseTimeToLive(10n, true).ttl, 4);
    assert.deepEqual(h.applier.leaseTimeToLive(10n, true).keys.map(String), ['k']);
    assert.equal(h.applier.leaseTimeToLive(20n, false).ttl, 5);
    assert.equal(h.applier.range(rangeReq('k')).kvs[0]?.lease, '10');
  } finally {
    h.close();
  }
});
