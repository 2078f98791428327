// Elections, as §5.2 of the Raft paper states the rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { message, MessageType, MemoryStorage, RawNode, type Message } from '../../src/raft/index.js';
import { Cluster } from './sim/cluster.js';

const vote = (from: number, to: number, term: number, lastIndex: number, lastTerm: number, pre = false): Message =>
  message({
    type: pre ? MessageType.MsgPreVote : MessageType.MsgVote,
    from: BigInt(from),
    to: BigInt(to),
    term,
    index: lastIndex,
    logTerm: lastTerm,
  });

function responses(c: Cluster, id: number): Message[] {
  return c.member(id).processReady();
}

test('a follower that hears from no leader for an election timeout becomes a candidate, votes for itself and asks every voter', () => {
  const c = new Cluster([1, 2, 3]);
  const node = c.node(1);
  for (let i = 0; i < 20 && node.status().softState.raftState === 'follower'; i++) node.tick();
  const st = node.status();
  assert.equal(st.softState.raftState, 'candidate');
  assert.equal(st.hardState.term, 1);
  assert.equal(st.hardState.vote, 1n);
  const sent = responses(c, 1);
  assert.deepEqual(
    sent.map((m) => [m.type, m.to, m.term]),
    [
      [MessageType.MsgVote, 2n, 1],
      [MessageType.MsgVote, 3n, 1],
    ],
  );
});

test('election timeouts are randomized in [electionTimeout, 2×electionTimeout)', () => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 200; seed++) {
    const node = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage: MemoryStorage.withConfState(cs([1, 2, 3])), randomSeed: seed });
    let ticks = 0;
    while (node.status().softState.raftState === 'follower') {
      node.tick();
      ticks++;
      assert.ok(ticks < 20, `seed ${seed}: no campaign after ${ticks} ticks`);
    }
    assert.ok(ticks >= 10, `seed ${seed}: campaigned after ${ticks} ticks`);
    seen.add(ticks);
  }
  assert.ok(seen.size >= 8, `only ${seen.size} distinct timeouts over 200 seeds`);
});

test('a candidate that receives votes from a majority becomes leader', () => {
  const c = new Cluster([1, 2, 3, 4, 5]);
  c.drop = (m) => m.to === 4n || m.to === 5n; // two voters never answer: 3 of 5 is still a majority
  c.campaign(1);
  assert.equal(c.state(1), 'leader');
  assert.equal(c.term(1), 1);
});

test('a candidate without a majority stays candidate', () => {
  const c = new Cluster([1, 2, 3, 4, 5]);
  c.drop = (m) => m.to !== 1n && m.to !== 2n;
  c.campaign(1);
  assert.equal(c.state(1), 'candidate', 'two of five votes are not enough');
});

test('a candidate rejected by a majority becomes follower', () => {
  const c = new Cluster([1, 2, 3]);
  c.drop = (m) => m.to === 1n;
  c.campaign(2);
  c.propose(2, 'x'); // 1 misses term 1 entirely, so its log is behind everyone's
  c.heal();
  c.campaign(1);
  assert.equal(c.state(1), 'follower');
  assert.equal(c.term(1), 1, 'it keeps the term it campaigned in');
});

test('a node grants at most one vote per term', () => {
  const c = new Cluster([1, 2, 3]);
  c.node(1).step(vote(2, 1, 5, 0, 0));
  c.node(1).step(vote(3, 1, 5, 0, 0));
  c.node(1).step(vote(2, 1, 5, 0, 0)); // a retransmission from the candidate we chose is granted again
  const sent = responses(c, 1);
  assert.deepEqual(
    sent.map((m) => [m.to, m.type, m.term, m.reject]),
    [
      [2n, MessageType.MsgVoteResp, 5, false],
      [3n, MessageType.MsgVoteResp, 5, true],
      [2n, MessageType.MsgVoteResp, 5, false],
    ],
  );
  assert.equal(c.member(1).disk.initialState().hardState.vote, 2n, 'the vote is persisted before it is sent');
});

test('a node denies its vote to a candidate whose log is less up-to-date than its own', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'x'); // everyone has entries 1 (term 1, empty) and 2 (term 1, "x")
  for (const [lastIndex, lastTerm, granted] of [
    [2, 0, false], // older last term
    [1, 1, false], // same last term, shorter log
    [2, 1, true], // as up-to-date
    [1, 2, true], // newer last term wins even with a shorter log
  ] as const) {
    const d = new Cluster([1, 2, 3]);
    d.campaign(1);
    d.propose(1, 'x');
    d.node(2).step(vote(3, 2, 9, lastIndex, lastTerm));
    const [resp] = responses(d, 2).filter((m) => m.type === MessageType.MsgVoteResp);
    assert.equal(resp?.reject, !granted, `candidate log (${lastIndex}, ${lastTerm})`);
  }
});

test('a node that sees a higher term steps down to follower in that term', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  assert.equal(c.state(1), 'leader');
  c.node(1).step(message({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 7 }));
  assert.equal(c.state(1), 'follower');
  assert.equal(c.term(1), 7);
  assert.equal(c.node(1).status().softState.lead, 2n);
});

test('a message from an older term is ignored', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.campaign(2); // term 2, leader 2
  const before = c.member(3).log().length;
  c.node(3).step(message({ type: MessageType.MsgApp, from: 1n, to: 3n, term: 1, index: 1, logTerm: 1, entries: [{ term: 1, index: 2, type: 0, data: new Uint8Array([1]) }] }));
  c.member(3).processReady();
  assert.equal(c.term(3), 2);
  assert.equal(c.member(3).log().length, before);
  assert.equal(c.node(3).status().softState.lead, 2n);
});

test('a single-member cluster elects itself and commits on its own', () => {
  const c = new Cluster([1]);
  c.tick(1, 20);
  assert.equal(c.state(1), 'leader');
  c.propose(1, 'alone');
  assert.deepEqual(c.values(1), ['alone']);
  assert.equal(c.node(1).status().hardState.commit, 2);
});

test('a learner never campaigns', () => {
  const c = new Cluster([1, 2], { learners: [3] });
  c.tick(3, 100);
  assert.equal(c.state(3), 'follower');
  assert.equal(c.term(3), 0);
});

test('bootstrap writes the initial members as committed conf changes and the cluster elects a leader', () => {
  const storages = [1n, 2n, 3n].map(() => new MemoryStorage());
  const nodes = storages.map((storage, i) => new RawNode({ id: BigInt(i + 1), electionTick: 10, heartbeatTick: 1, storage }));
  for (const n of nodes) n.bootstrap([{ id: 1n }, { id: 2n }, { id: 3n }]);
  const rd = nodes[0]!.ready();
  assert.equal(rd.entries.length, 3);
  assert.equal(rd.committedEntries.length, 3);
  assert.deepEqual(rd.hardState, { term: 1, vote: 0n, commit: 3 });
  assert.deepEqual(nodes[0]!.status().config.voters, [1n, 2n, 3n]);
});

function cs(voters: number[]) {
  return { voters: voters.map(BigInt), learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}
