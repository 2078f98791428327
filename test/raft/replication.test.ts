// Log replication and commitment, as §5.3–5.4 of the Raft paper state the rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, message, MessageType, type Entry, type Message } from '../../src/raft/index.js';
import { Cluster } from './sim/cluster.js';

const enc = new TextEncoder();
const entry = (index: number, term: number, data = ''): Entry => ({ index, term, type: EntryType.Normal, data: enc.encode(data) });
const app = (from: number, to: number, term: number, index: number, logTerm: number, entries: Entry[], commit = 0): Message =>
  message({ type: MessageType.MsgApp, from: BigInt(from), to: BigInt(to), term, index, logTerm, entries, commit });
const terms = (c: Cluster, id: number): number[] => c.member(id).log().map((e) => e.term);

test('a new leader appends an empty entry of its term and replicates it', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  for (const id of [1, 2, 3]) {
    const log = c.member(id).log();
    assert.equal(log.length, 1);
    assert.equal(log[0]!.term, 1);
    assert.equal(log[0]!.data.length, 0);
  }
  assert.equal(c.node(1).status().hardState.commit, 1);
});

test('a leader commits an entry once a majority stores it, and followers learn the commit index', () => {
  const c = new Cluster([1, 2, 3, 4, 5]);
  c.campaign(1);
  c.drop = (m) => m.to === 4n || m.to === 5n || m.to === 3n;
  c.propose(1, 'a');
  assert.equal(c.node(1).status().hardState.commit, 1, 'two of five is not a majority');
  c.drop = (m) => m.to === 4n || m.to === 5n;
  c.tick(1, 1); // a heartbeat makes the leader retry 3
  assert.equal(c.node(1).status().hardState.commit, 2, 'three of five is');
  assert.deepEqual(c.values(1), ['a']);
  c.tick(1, 1);
  assert.equal(c.node(2).status().hardState.commit, 2);
  assert.deepEqual(c.values(2), ['a']);
  assert.deepEqual(c.values(4), [], 'a follower that did not store the entry does not apply it');
});

test('a follower rejects AppendEntries whose prevLogIndex/prevLogTerm do not match, with a hint', () => {
  const c = new Cluster([1, 2, 3]);
  const f = c.node(2);
  f.step(app(1, 2, 3, 0, 0, [entry(1, 1), entry(2, 1), entry(3, 2)]));
  c.member(2).processReady();
  f.step(app(1, 2, 3, 5, 3, [entry(6, 3)])); // we have no entry 5
  f.step(app(1, 2, 3, 3, 3, [entry(4, 3)])); // entry 3 is of term 2, not 3
  const out = c.member(2).processReady();
  assert.deepEqual(
    out.map((m) => [m.type, m.index, m.reject, m.rejectHint, m.logTerm]),
    [
      [MessageType.MsgAppResp, 5, true, 3, 2], // hint: our last index 3 (term 2)
      [MessageType.MsgAppResp, 3, true, 3, 2], // hint: index 3 has term 2 ≤ 3
    ],
  );
  assert.deepEqual(terms(c, 2), [1, 1, 2], 'nothing was appended');
});

test('a follower deletes conflicting entries and everything after them, then appends the new ones', () => {
  const c = new Cluster([1, 2, 3]);
  const f = c.node(2);
  f.step(app(1, 2, 2, 0, 0, [entry(1, 1), entry(2, 2, 'old'), entry(3, 2, 'old')]));
  f.step(app(3, 2, 3, 1, 1, [entry(2, 3, 'new')]));
  c.member(2).processReady();
  assert.deepEqual(terms(c, 2), [1, 3]);
  // A stale, shorter append that matches does not truncate what follows.
  f.step(app(3, 2, 3, 0, 0, [entry(1, 1)]));
  c.member(2).processReady();
  assert.deepEqual(terms(c, 2), [1, 3]);
});

test('a leader backtracks a diverged follower by whole terms using the rejection hints', () => {
  const c = new Cluster([1, 2, 3], { maxSizePerMsg: 1 << 20 });
  // Follower 3 holds a long uncommitted tail of term 2 that the leader of term 3 never had.
  const f = c.node(3);
  f.step(app(2, 3, 2, 0, 0, [entry(1, 1), ...Array.from({ length: 50 }, (_, i) => entry(i + 2, 2))]));
  c.member(3).processReady();
  c.node(1).step(app(2, 1, 2, 0, 0, [entry(1, 1)]));
  c.node(2).step(app(2, 2, 2, 0, 0, [entry(1, 1)]));
  c.stabilize();
  c.delivered.length = 0;
  c.campaign(1); // 1 and 2 elect 1 at term 3; 3 rejects (its log is longer) but then follows
  const rejects = c.delivered.filter((m) => m.type === MessageType.MsgAppResp && m.reject && m.from === 3n);
  assert.ok(rejects.length <= 2, `needed ${rejects.length} rejections; one per entry would be 50`);
  assert.deepEqual(terms(c, 3), terms(c, 1));
  assert.equal(c.node(3).status().hardState.commit, c.node(1).status().hardState.commit);
});

test('a leader never commits an entry from a previous term by counting replicas (Figure 8)', () => {
  const c = new Cluster([1, 2, 3, 4, 5], { maxSizePerMsg: 1 });
  const between = (a: number[], b: number[]) => (m: Message) =>
    (a.includes(Number(m.from)) && b.includes(Number(m.to))) || (b.includes(Number(m.from)) && a.includes(Number(m.to)));
  c.campaign(1); // term 1, entry 1 everywhere
  // (a) 1 replicates entry 2 (term 1) to 2 only.
  c.drop = between([1, 2], [3, 4, 5]);
  c.propose(1, 'a');
  // (b) 1 crashes; 5 wins term 2 with 3 and 4 but its entry 2 (term 2) reaches nobody.
  c.member(1).crash();
  c.drop = (m) => between([1, 2], [3, 4, 5])(m) || (m.from === 5n && m.type === MessageType.MsgApp);
  c.campaign(5);
  assert.equal(c.state(5), 'leader');
  c.member(5).crash();
  // (c) 1 restarts and wins a later term; it gets entry 2 onto 3, but its own entry 3 reaches only 2.
  c.member(1).start(1);
  let entry2Sent = false;
  c.drop = (m) => {
    if (m.to === 4n || m.to === 5n) return true;
    if (m.to !== 3n || m.type !== MessageType.MsgApp) return false;
    if (m.entries.some((e) => e.index === 2)) entry2Sent = true;
    return entry2Sent && m.entries.some((e) => e.index === 3);
  };
  c.campaign(1);
  if (c.state(1) !== 'leader') c.campaign(1); // the first try only taught it the current term
  assert.equal(c.state(1), 'leader');
  c.tick(1, 3);
  assert.deepEqual(terms(c, 3), [1, 1], 'entry 2 of the old term is on a majority (1, 2, 3)');
  assert.equal(c.node(1).status().hardState.commit, 1, 'but it is not committed by counting replicas');
  // (d) 1 crashes; 5 comes back and wins with 3 and 4, replacing entry 2: nothing committed is lost.
  c.member(1).crash();
  c.member(5).start(5);
  c.drop = (m) => m.to === 1n || m.to === 2n;
  c.campaign(5);
  if (c.state(5) !== 'leader') c.campaign(5);
  assert.equal(c.state(5), 'leader');
  assert.equal(c.member(3).log()[1]!.term, 2, "5's entry replaced the uncommitted one");
});

test('proposals at a follower are forwarded to the leader', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(2, 'via follower');
  assert.deepEqual(c.values(1), ['via follower']);
  assert.deepEqual(c.values(3), ['via follower']);
});

test('entries proposed together reach each follower in one append, in order, and are all dropped together', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.node(1).proposeAll(['a', 'b', 'c'].map((v) => enc.encode(v)));
  const appends = c.member(1).processReady().filter((m) => m.type === MessageType.MsgApp);
  assert.deepEqual(
    appends.map((m) => [m.to, m.entries.map((e) => new TextDecoder().decode(e.data))]),
    [
      [2n, ['a', 'b', 'c']],
      [3n, ['a', 'b', 'c']],
    ],
  );
  for (const m of appends) c.deliver(m);
  c.stabilize();
  assert.deepEqual(c.values(3), ['a', 'b', 'c']);
  c.node(2).proposeAll([enc.encode('d'), enc.encode('e')]);
  c.stabilize();
  const forwarded = c.delivered.filter((m) => m.type === MessageType.MsgProp);
  assert.deepEqual(forwarded.map((m) => [m.from, m.to, m.entries.length]), [[2n, 1n, 2]], 'a follower forwards them in one message');
  assert.deepEqual(c.values(1), ['a', 'b', 'c', 'd', 'e']);
  const leaderless = new Cluster([1, 2, 3]);
  assert.throws(() => leaderless.node(2).proposeAll([enc.encode('x'), enc.encode('y')]), { code: 'RAFT_PROPOSAL_DROPPED' });
  assert.equal(leaderless.member(2).log().length, 0);
});

test('a proposal without a known leader is dropped with an error, as is one with forwarding disabled', () => {
  const c = new Cluster([1, 2, 3]);
  assert.throws(() => c.node(2).propose(enc.encode('x')), { code: 'RAFT_PROPOSAL_DROPPED' });
  const d = new Cluster([1, 2, 3], { disableProposalForwarding: true });
  d.campaign(1);
  assert.throws(() => d.node(2).propose(enc.encode('x')), { code: 'RAFT_PROPOSAL_DROPPED' });
  d.propose(1, 'at the leader');
  assert.deepEqual(d.values(2), ['at the leader']);
});

test('flow control: a probing follower gets one append at a time; a replicating one at most maxInflightMsgs', () => {
  const c = new Cluster([1, 2], { maxSizePerMsg: 1, maxInflightMsgs: 3 });
  c.campaign(1);
  c.drop = (m) => m.to === 2n; // 2 stops answering
  for (let i = 0; i < 10; i++) c.node(1).propose(enc.encode(`p${i}`));
  const sent = c.member(1).processReady().filter((m) => m.type === MessageType.MsgApp && m.to === 2n);
  assert.equal(sent.length, 3, 'replicate state: the in-flight window is full after three appends');
  assert.equal(c.node(1).status().progress!.get(2n)!.state, 'replicate');
  c.node(1).reportUnreachable(2n);
  assert.equal(c.node(1).status().progress!.get(2n)!.state, 'probe');
  c.node(1).tick(); // heartbeat
  c.member(1).processReady();
  c.node(1).step(message({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term: c.term(1) }));
  const probes = c.member(1).processReady().filter((m) => m.type === MessageType.MsgApp && m.to === 2n);
  assert.equal(probes.length, 1, 'probe state: one append, then wait for its answer');
});

test('after a leader change every log converges to the new leader\'s (log matching)', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.isolate(1);
  c.propose(1, 'lost'); // only on 1, never committed
  c.campaign(2);
  c.propose(2, 'kept');
  c.heal();
  c.tick(2, 1);
  for (const id of [1, 2, 3]) assert.deepEqual(terms(c, id), terms(c, 2), `member ${id}`);
  for (const id of [1, 2, 3]) assert.deepEqual(c.values(id), ['kept'], `member ${id}`);
});
