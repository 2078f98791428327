// Membership changes: one voter at a time, learners, promotion, removal, joint consensus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType, decodeConfChangeEntry, type ConfChange } from '../../src/raft/index.js';
import { jointCommitted, jointVoteResult } from '../../src/raft/quorum.js';
import { Cluster } from './sim/cluster.js';

const change = (type: ConfChangeType, nodeId: number): ConfChange => ({ kind: 'v1', id: 0n, type, nodeId: BigInt(nodeId), context: new Uint8Array(0) });
const add = (id: number) => change(ConfChangeType.AddNode, id);
const remove = (id: number) => change(ConfChangeType.RemoveNode, id);
const addLearner = (id: number) => change(ConfChangeType.AddLearnerNode, id);

function elected(voters: number[]): Cluster {
  const c = new Cluster(voters, { bootstrap: true });
  c.campaign(1);
  assert.equal(c.state(1), 'leader');
  return c;
}

function commit(c: Cluster): number {
  return c.node(1).status().hardState.commit;
}

test('a voter added by a conf change catches up from the log and then counts in the quorum', () => {
  const c = elected([1, 2, 3]);
  c.propose(1, 'before');
  c.addEmptyMember(4);
  c.node(1).proposeConfChange(add(4));
  c.stabilize();
  c.tick(1, 2);
  assert.deepEqual(c.node(4).status().config.voters, [1n, 2n, 3n, 4n], 'it learned the whole configuration from the log');
  assert.deepEqual(c.values(4), ['before']);
  c.member(2).crash();
  c.propose(1, 'three of four');
  assert.deepEqual(c.values(4), ['before', 'three of four']);
  c.member(3).crash();
  const at = commit(c);
  c.propose(1, 'two of four');
  assert.equal(commit(c), at, 'two of four voters are not a quorum');
});

test('a learner receives the log but neither votes nor counts toward commit, until it is promoted', () => {
  const c = elected([1, 2, 3]);
  c.addEmptyMember(4);
  c.node(1).proposeConfChange(addLearner(4));
  c.stabilize();
  c.propose(1, 'x');
  assert.deepEqual(c.values(4), ['x']);
  assert.deepEqual(c.node(1).status().config.learners, [4n]);
  c.member(2).crash();
  c.member(3).crash();
  const at = commit(c);
  c.propose(1, 'y');
  assert.equal(commit(c), at, 'a leader and a learner are no quorum');
  c.tick(4, 50);
  assert.equal(c.state(4), 'follower', 'a learner never campaigns');

  c.member(2).start(2);
  c.member(3).start(3);
  c.tick(1, 1);
  c.node(1).proposeConfChange(add(4));
  c.stabilize();
  assert.deepEqual(c.node(1).status().config.voters, [1n, 2n, 3n, 4n]);
  assert.deepEqual(c.node(1).status().config.learners, []);
  c.member(3).crash();
  c.propose(1, 'z');
  assert.ok(c.values(4).includes('z'), 'the promoted learner now makes the quorum with 1 and 2');
});

test('removing a voter shrinks the quorum', () => {
  const c = elected([1, 2, 3, 4]);
  c.node(1).proposeConfChange(remove(4));
  c.stabilize();
  assert.deepEqual(c.node(2).status().config.voters, [1n, 2n, 3n]);
  c.member(4).crash();
  c.member(3).crash();
  c.propose(1, 'two of three');
  assert.deepEqual(c.values(2), ['two of three']);
});

test('a leader removed from the configuration steps down and the remaining voters elect a leader', () => {
  const c = elected([1, 2, 3]);
  c.node(1).proposeConfChange(remove(1));
  c.stabilize();
  assert.notEqual(c.state(1), 'leader');
  assert.deepEqual(c.node(1).status().config.voters, [2n, 3n]);
  c.member(1).crash(); // what a server does once it applied its own removal
  for (let i = 0; i < 40 && c.leaders().length === 0; i++) c.tickAll();
  const [leader] = c.leaders();
  assert.ok(leader === 2n || leader === 3n);
  c.propose(leader, 'after');
  assert.deepEqual(c.values(2), ['after']);
  assert.deepEqual(c.values(3), ['after']);
});

test('only one conf change may be pending at a time: a second one becomes a no-op', () => {
  const c = elected([1, 2, 3]);
  c.addEmptyMember(4);
  c.addEmptyMember(5);
  c.node(1).proposeConfChange(addLearner(4));
  c.node(1).proposeConfChange(addLearner(5)); // not applied yet: refused
  c.stabilize();
  assert.deepEqual(c.node(1).status().config.learners, [4n]);
  c.node(1).proposeConfChange(addLearner(5)); // now it is
  c.stabilize();
  assert.deepEqual(c.node(1).status().config.learners, [4n, 5n]);
});

test('joint consensus: replacing a voter enters a joint configuration and leaves it automatically', () => {
  const c = elected([1, 2, 3]);
  c.addEmptyMember(4);
  c.node(1).proposeConfChange({
    kind: 'v2',
    transition: 0,
    changes: [
      { type: ConfChangeType.AddNode, nodeId: 4n },
      { type: ConfChangeType.RemoveNode, nodeId: 3n },
    ],
    context: new Uint8Array(0),
  });
  c.stabilize();
  c.tick(1, 2);
  const changes = c.member(2).log().flatMap((e) => {
    const cc = decodeConfChangeEntry(e);
    return cc?.kind === 'v2' ? [cc.changes.map((x) => `${x.type}:${x.nodeId}`).join(',')] : [];
  });
  assert.deepEqual(changes, ['0:4,1:3', ''], 'the joint change, then the leader\'s automatic empty change that leaves it');
  const final = c.node(1).status().config;
  assert.deepEqual(final.voters, [1n, 2n, 4n]);
  assert.deepEqual(final.votersOutgoing, []);
  assert.equal(final.autoLeave, false);
  assert.deepEqual(c.node(4).status().config.voters, [1n, 2n, 4n]);
  c.member(3).crash();
  c.propose(1, 'new config');
  assert.deepEqual(c.values(4), ['new config']);
});

test('in a joint configuration decisions need a majority of both halves', () => {
  const cfg = { incoming: new Set([1n, 2n, 4n]), outgoing: new Set([1n, 2n, 3n]) };
  const match = new Map([
    [1n, 10],
    [2n, 5],
    [3n, 9],
    [4n, 9],
  ]);
  // incoming {1:10, 2:5, 4:9} → 9; outgoing {1:10, 2:5, 3:9} → 9
  assert.equal(jointCommitted(cfg, (id) => match.get(id)), 9);
  match.set(3n, 4); // outgoing now only has 5
  assert.equal(jointCommitted(cfg, (id) => match.get(id)), 5);
  const votes = new Map([
    [1n, true],
    [4n, true],
  ]);
  assert.equal(jointVoteResult(cfg, votes), 'pending', 'a majority of incoming only');
  votes.set(3n, false);
  votes.set(2n, false);
  assert.equal(jointVoteResult(cfg, votes), 'lost');
  votes.set(2n, true);
  assert.equal(jointVoteResult(cfg, votes), 'won');
});

test('a conf change that would remove every voter is refused identically by every member', () => {
  const c = new Cluster([1], { bootstrap: true });
  c.campaign(1);
  c.node(1).proposeConfChange(remove(1));
  c.stabilize();
  assert.equal(c.member(1).refusedConfChanges, 1);
  assert.deepEqual(c.node(1).status().config.voters, [1n]);
  c.propose(1, 'still works');
  assert.deepEqual(c.values(1), ['still works']);
});
