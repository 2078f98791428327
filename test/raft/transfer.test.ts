// Leadership transfer (§3.10 of Ongaro's thesis), etcd's MoveLeader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/raft/index.js';
import { Cluster } from './sim/cluster.js';

test('a transfer to an up-to-date follower sends it MsgTimeoutNow and it wins the next term', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true, preVote: true });
  c.campaign(1);
  c.delivered.length = 0;
  c.node(1).transferLeader(3n);
  c.stabilize();
  assert.ok(c.delivered.some((m) => m.type === MessageType.MsgTimeoutNow && m.to === 3n));
  assert.equal(c.state(3), 'leader', 'it campaigns past the leader lease of the others');
  assert.equal(c.term(3), 2);
  assert.equal(c.state(1), 'follower');
});

test('a transfer to a lagging follower first brings its log up to date', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.drop = (m) => m.to === 3n;
  c.propose(1, 'a');
  c.propose(1, 'b');
  c.heal();
  c.node(1).transferLeader(3n);
  c.stabilize();
  assert.equal(c.state(3), 'leader');
  assert.deepEqual(c.values(3), ['a', 'b']);
});

test('proposals are dropped while a transfer is in progress, and an unfinished transfer is abandoned after an election timeout', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.isolate(3);
  c.node(1).transferLeader(3n);
  c.stabilize();
  assert.equal(c.node(1).status().leadTransferee, 3n);
  assert.throws(() => c.node(1).propose(new TextEncoder().encode('x')), { code: 'RAFT_PROPOSAL_DROPPED' });
  c.tick(1, 10);
  assert.equal(c.node(1).status().leadTransferee, 0n);
  c.propose(1, 'x');
  assert.deepEqual(c.values(2), ['x']);
});

test('a transfer to the leader itself or to a learner is ignored; one asked of a follower reaches the leader', () => {
  const c = new Cluster([1, 2, 3], { learners: [4] });
  c.campaign(1);
  c.node(1).transferLeader(1n);
  c.node(1).transferLeader(4n);
  c.stabilize();
  assert.equal(c.node(1).status().leadTransferee, 0n);
  assert.equal(c.state(1), 'leader');
  c.node(2).transferLeader(2n);
  c.stabilize();
  assert.equal(c.state(2), 'leader');
});
