// Pre-vote (§9.6 of Ongaro's thesis) and check-quorum / leader lease.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { message, MessageType } from '../../src/raft/index.js';
import { Cluster } from './sim/cluster.js';

test('with pre-vote, a partitioned node does not raise its term, and does not disrupt the leader when it rejoins', () => {
  const c = new Cluster([1, 2, 3], { preVote: true });
  c.campaign(1);
  c.isolate(3);
  c.tick(3, 100);
  assert.equal(c.term(3), 1, 'pre-elections that fail leave the term alone');
  assert.equal(c.state(3), 'preCandidate');
  c.heal();
  c.tick(1, 1); // a heartbeat brings 3 back as a follower
  assert.equal(c.state(1), 'leader');
  assert.equal(c.term(1), 1);
  assert.equal(c.state(3), 'follower');
});

test('without pre-vote, the same rejoining node forces a new election at a higher term', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.isolate(3);
  c.tick(3, 100);
  assert.ok(c.term(3) > 1);
  c.heal();
  c.tickAll(25); // its next campaign reaches the others
  assert.ok(c.term(1) > 1, 'the old leader was deposed by the higher term');
});

test('a pre-vote is granted to an up-to-date candidate without changing the voter\'s term or vote', () => {
  const c = new Cluster([1, 2, 3], { preVote: true });
  c.campaign(1);
  c.node(2).step(message({ type: MessageType.MsgPreVote, from: 3n, to: 2n, term: 2, index: 1, logTerm: 1 }));
  c.node(2).step(message({ type: MessageType.MsgPreVote, from: 3n, to: 2n, term: 2, index: 0, logTerm: 0 }));
  const out = c.member(2).processReady().filter((m) => m.type === MessageType.MsgPreVoteResp);
  assert.deepEqual(out.map((m) => [m.reject, m.term]), [
    [false, 2],
    [true, 1],
  ]);
  const hs = c.node(2).status().hardState;
  assert.equal(hs.term, 1);
  assert.equal(hs.vote, 1n);
});

test('with check-quorum, a leader that loses contact with a quorum steps down', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true });
  c.campaign(1);
  c.isolate(1);
  c.tick(1, 10); // one election timeout: the round in progress still counts
  c.tick(1, 10);
  assert.equal(c.state(1), 'follower');
  assert.equal(c.term(1), 1, 'stepping down needs no new term');
});

test('with check-quorum, a follower that heard from its leader recently ignores vote requests (leader lease)', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true });
  c.campaign(1);
  c.node(2).step(message({ type: MessageType.MsgVote, from: 3n, to: 2n, term: 5, index: 9, logTerm: 9 }));
  assert.equal(c.term(2), 1, 'the request did not even move the term');
  assert.equal(c.member(2).processReady().length, 0, 'and got no answer');
  // Once the lease has run out the request is considered.
  for (let i = 0; i < 10; i++) c.node(2).tick();
  c.node(2).step(message({ type: MessageType.MsgVote, from: 3n, to: 2n, term: 5, index: 9, logTerm: 9 }));
  assert.equal(c.term(2), 5);
});

test('with check-quorum, a leader that kept an old term is told the new one when it returns', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true, preVote: true });
  c.campaign(1);
  c.isolate(1);
  for (let i = 0; i < 40; i++) c.tickAll();
  assert.equal(c.leaders().filter((id) => id !== 1n).length, 1, 'the majority side elected a leader');
  c.heal();
  c.tickAll(2);
  assert.equal(c.leaders().length, 1);
  assert.equal(new Set([1, 2, 3].map((id) => c.term(id))).size, 1);
});
