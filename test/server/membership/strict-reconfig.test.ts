import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkReconfig, type ReconfigChange, type ReconfigView } from '../../../src/server/membership/strict-reconfig.js';
import type { StoredMember } from '../../../src/server/backend/members.js';

const NOW = 1_000_000;
const member = (id: bigint, started = true, isLearner = false): StoredMember => ({ id, name: started ? `m${id}` : '', peerUrls: [], clientUrls: [], isLearner });

/** A view from leader 1 where `up` are the peers connected for long enough. */
function view(members: StoredMember[], up: bigint[], justConnected: bigint[] = []): ReconfigView {
  return {
    members,
    self: 1n,
    connectedSince: (id) => (up.includes(id) ? NOW - 10_000 : justConnected.includes(id) ? NOW - 10 : undefined),
    healthIntervalMs: 5000,
    now: NOW,
  };
}

const refusal = (v: ReconfigView, change: ReconfigChange): string | undefined => {
  try {
    checkReconfig(v, change);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};
const NOT_STARTED = 'etcdserver: re-configuration failed due to not enough started members';
const UNHEALTHY = 'etcdserver: unhealthy cluster';
const addVoter: ReconfigChange = { kind: 'add', isLearner: false };

test('adding a voter needs a quorum of started voters in the grown cluster, and every voter connected', () => {
  assert.equal(refusal(view([member(1n)], []), addVoter), undefined, 'one member may add a second');
  assert.equal(refusal(view([member(1n), member(2n, false)], [2n]), addVoter), NOT_STARTED, 'one started of three');
  assert.equal(refusal(view([member(1n), member(2n), member(3n)], [2n, 3n]), addVoter), undefined);
  assert.equal(refusal(view([member(1n), member(2n), member(3n)], [2n]), addVoter), UNHEALTHY, 'a voter is down');
  assert.equal(refusal(view([member(1n), member(2n), member(3n)], [2n], [3n]), addVoter), UNHEALTHY, 'a voter connected only just now');
  assert.equal(refusal(view([member(1n), member(2n, false)], [2n]), { kind: 'add', isLearner: true }), undefined, 'a learner needs no started quorum');
  assert.equal(refusal(view([member(1n), member(2n)], []), { kind: 'add', isLearner: true }), UNHEALTHY);
});

test('removing a voter keeps a quorum of started and of connected voters; a down member or a learner may always go', () => {
  const three = [member(1n), member(2n), member(3n)];
  assert.equal(refusal(view(three, [2n, 3n]), { kind: 'remove', id: 3n }), undefined);
  assert.equal(refusal(view(three, [2n]), { kind: 'remove', id: 3n }), undefined, 'member 3 is down');
  assert.equal(refusal(view(three, [2n]), { kind: 'remove', id: 2n }), UNHEALTHY, 'only the leader would stay connected');
  assert.equal(refusal(view(three, [2n]), { kind: 'remove', id: 1n }), UNHEALTHY, 'removing the leader with a member down');
  assert.equal(refusal(view([member(1n), member(2n, false), member(3n, false), member(4n)], [2n, 3n, 4n]), { kind: 'remove', id: 4n }), NOT_STARTED);
  assert.equal(refusal(view([member(1n), member(2n), member(9n, false, true)], []), { kind: 'remove', id: 9n }), undefined);
});
