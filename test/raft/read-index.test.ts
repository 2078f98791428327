// ReadIndex: linearizable reads without writing to the log (§6.4 of Ongaro's thesis).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/raft/index.js';
import { Cluster } from './sim/cluster.js';

const ctx = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

test('a ReadIndex on the leader is answered with its commit index after a heartbeat quorum confirms it still leads', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'a');
  c.delivered.length = 0;
  c.node(1).readIndex(ctx('r1'));
  c.stabilize();
  const states = c.member(1).readStates;
  assert.deepEqual(states.map((s) => [s.index, text(s.requestCtx)]), [[2, 'r1']]);
  assert.ok(c.delivered.some((m) => m.type === MessageType.MsgHeartbeatResp && text(m.context) === 'r1'));
});

test('a ReadIndex on a follower is forwarded to the leader and answered to the follower', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'a');
  c.node(3).readIndex(ctx('r2'));
  c.stabilize();
  assert.deepEqual(c.member(3).readStates.map((s) => [s.index, text(s.requestCtx)]), [[2, 'r2']]);
});

test('a leader cut off from the quorum does not answer a ReadIndex', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.isolate(1);
  c.node(1).readIndex(ctx('r3'));
  c.stabilize();
  c.tick(1, 3);
  assert.deepEqual(c.member(1).readStates, []);
});

test('a new leader answers a ReadIndex only after committing an entry of its own term', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'a');
  // 2 wins the next term, but nobody hears its empty entry yet.
  c.drop = (m) => m.type === MessageType.MsgApp;
  c.campaign(2);
  assert.equal(c.state(2), 'leader');
  c.node(2).readIndex(ctx('r4'));
  c.stabilize();
  c.tick(2, 2);
  assert.deepEqual(c.member(2).readStates, [], 'its commit index may still be behind the cluster');
  c.heal();
  c.tick(2, 1);
  assert.deepEqual(c.member(2).readStates.map((s) => [s.index, text(s.requestCtx)]), [[3, 'r4']]);
});

test('lease-based reads are answered by the leader without a heartbeat round', () => {
  const c = new Cluster([1, 2, 3], { readOnlyOption: 'leaseBased', checkQuorum: true });
  c.campaign(1);
  c.delivered.length = 0;
  c.node(1).readIndex(ctx('r5'));
  c.stabilize();
  assert.deepEqual(c.member(1).readStates.map((s) => s.index), [1]);
  assert.equal(c.delivered.filter((m) => m.type === MessageType.MsgHeartbeat).length, 0);
});
