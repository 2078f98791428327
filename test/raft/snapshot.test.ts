// Log compaction and snapshots (§7 of the Raft paper).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { message, MessageType, type Snapshot } from '../../src/raft/index.js';
import { Cluster } from './sim/cluster.js';

function compactedCluster(): Cluster {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.member(3).crash();
  for (let i = 0; i < 20; i++) c.propose(1, `v${i}`);
  for (const id of [1, 2]) c.member(id).compact(0);
  return c;
}

test('a lagging follower whose next entries were compacted receives a snapshot and catches up', () => {
  const c = compactedCluster();
  assert.equal(c.member(1).disk.firstIndex(), 22);
  c.delivered.length = 0;
  c.member(3).start(3);
  c.tick(1, 1);
  const snaps = c.delivered.filter((m) => m.type === MessageType.MsgSnap && m.to === 3n);
  assert.equal(snaps.length, 1);
  c.node(1).reportSnapshot(3n, 'finish');
  c.propose(1, 'after');
  assert.deepEqual(c.values(3), [...Array.from({ length: 20 }, (_, i) => `v${i}`), 'after']);
  assert.deepEqual(c.member(3).log().map((e) => e.index), [22]);
  assert.equal(c.node(1).status().progress!.get(3n)!.state, 'replicate');
});

test('a failed snapshot send is reported and the leader probes, then sends it again', () => {
  const c = compactedCluster();
  c.member(3).start(3);
  c.drop = (m) => m.type === MessageType.MsgSnap;
  c.tick(1, 1);
  assert.equal(c.node(1).status().progress!.get(3n)!.state, 'snapshot');
  c.node(1).reportSnapshot(3n, 'failure');
  assert.equal(c.node(1).status().progress!.get(3n)!.state, 'probe');
  c.heal();
  c.tick(1, 2);
  c.node(1).reportSnapshot(3n, 'finish');
  c.tick(1, 1);
  assert.equal(c.values(3).length, 20);
});

test('a follower ignores a snapshot that is not newer than its commit index', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'a');
  const old: Snapshot = { metadata: { index: 1, term: 1, confState: c.node(2).status().config }, data: new Uint8Array(0) };
  c.node(2).step(message({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: old }));
  const [resp] = c.member(2).processReady();
  assert.equal(resp?.type, MessageType.MsgAppResp);
  assert.equal(resp?.index, 2, 'it answers with its commit index');
  assert.deepEqual(c.values(2), ['a']);
});

test('a restarted member recovers its state from the snapshot and the log after it', () => {
  const c = compactedCluster();
  c.propose(1, 'tail');
  c.member(2).crash();
  c.member(2).start(2);
  c.stabilize();
  assert.deepEqual(c.values(2), [...Array.from({ length: 20 }, (_, i) => `v${i}`), 'tail']);
  assert.equal(c.node(2).status().hardState.commit, c.node(1).status().hardState.commit);
});
