import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EntryType, MemoryStorage, RawNode, type Entry, type Message } from '../../../src/raft/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { loadRaftLog } from '../../../src/server/replication/raft-log-load.js';
import { RaftLoop } from '../../../src/server/replication/raft-loop.js';
import { Wal } from '../../../src/server/wal/index.js';
import { tempDir } from '../../support/index.js';

const ID = 0x1234n;
const confState = { voters: [ID], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

function startLoop(wal: Wal, storage: MemoryStorage, applied: number) {
  const node = new RawNode({ id: ID, electionTick: 10, heartbeatTick: 1, storage, applied });
  const appliedEntries: Entry[] = [];
  const sent: Message[] = [];
  const failures: unknown[] = [];
  const loop = new RaftLoop(node, storage, wal, {
    send: (messages) => sent.push(...messages),
    apply: (entries) => {
      for (const e of entries) {
        appliedEntries.push(e);
        if (e.type !== EntryType.Normal) loop.applyConfChange({ kind: 'v2', transition: 0, changes: [{ type: 0, nodeId: ID }], context: new Uint8Array(0) });
      }
    },
    installSnapshot: () => Promise.reject(new Error('a lone member gets no snapshot')),
    readStates: () => undefined,
    softState: () => undefined,
    fatal: (err) => failures.push(err),
  });
  return { node, loop, appliedEntries, sent, failures };
}

test('one member: bootstrap, self-election and proposals are persisted before they are applied, and a restart rebuilds the log from the WAL', async (t) => {
  const dir = join(tempDir('raft-loop', t).path, 'wal');
  const wal = await Wal.create(dir, Buffer.alloc(16));
  const first = startLoop(wal, new MemoryStorage(), 0);
  first.node.bootstrap([{ id: ID }]);
  await first.loop.drain();
  const refused: unknown[] = [];
  first.loop.propose(Buffer.from('before any leader'), (err) => refused.push(err));
  await first.loop.drain();
  assert.deepEqual(refused.map((err) => (err as { code?: string }).code), ['RAFT_PROPOSAL_DROPPED'], 'a proposal without a leader is refused');
  first.loop.campaign();
  await first.loop.drain();
  assert.equal(first.node.status().softState.raftState, 'leader');
  for (let i = 0; i < 20; i++) first.loop.propose(Buffer.from(`entry ${i}`), (err) => first.failures.push(err));
  await first.loop.drain();
  const payloads = first.appliedEntries.filter((e) => e.type === EntryType.Normal && e.data.length > 0).map((e) => Buffer.from(e.data).toString());
  assert.deepEqual(payloads, Array.from({ length: 20 }, (_, i) => `entry ${i}`));
  assert.equal(first.sent.length, 0, 'a lone member sends nothing');
  assert.ok(wal.stats.syncs < 20, `proposals made together share WAL syncs (${wal.stats.syncs} syncs)`);
  assert.deepEqual(first.failures, []);
  const lastIndex = first.appliedEntries.at(-1)!.index;
  await first.loop.stop();
  await wal.close();

  const { wal: reopened, replay } = await Wal.open(dir);
  t.after(() => reopened.close());
  const loaded = await loadRaftLog(replay, confState, silentLogger);
  assert.equal(loaded.storage.lastIndex(), lastIndex);
  assert.equal(loaded.hardState.commit, lastIndex);
  assert.equal(loaded.applied, 0);
  const second = startLoop(reopened, loaded.storage, loaded.applied);
  await second.loop.drain();
  assert.deepEqual(
    second.appliedEntries.map((e) => e.index),
    first.appliedEntries.map((e) => e.index),
    'every committed entry is delivered again; the backend skips those it has',
  );
  second.loop.campaign();
  await second.loop.drain();
  assert.equal(second.node.status().softState.raftState, 'leader');
  assert.ok(second.node.status().hardState.term > first.node.status().hardState.term);
  await second.loop.stop();
});

test('a hard state whose commit is past the log (a torn tail) is clamped to the log', async (t) => {
  const dir = join(tempDir('raft-load', t).path, 'wal');
  const wal = await Wal.create(dir, Buffer.alloc(16));
  await wal.append([{ term: 1, index: 1, type: 0, data: Buffer.from('a') }], { term: 1, vote: ID, commit: 5 });
  await wal.close();
  const { wal: reopened, replay } = await Wal.open(dir);
  t.after(() => reopened.close());
  const loaded = await loadRaftLog(replay, confState, silentLogger);
  assert.deepEqual(loaded.hardState, { term: 1, vote: ID, commit: 1 });
});

test('proposals still queued when the loop stops, and any made after, are refused rather than left waiting', async (t) => {
  const dir = join(tempDir('raft-loop-stop', t).path, 'wal');
  const wal = await Wal.create(dir, Buffer.alloc(16));
  t.after(() => wal.close());
  const { node, loop, failures } = startLoop(wal, new MemoryStorage(), 0);
  node.bootstrap([{ id: ID }]);
  await loop.drain();
  loop.campaign();
  await loop.drain();
  const refused: string[] = [];
  const refuse = (name: string) => (err: unknown) => refused.push(`${name}: ${(err as { code?: string }).code}`);
  loop.propose(Buffer.from('a'), refuse('a')); // taken at once: its Ready's WAL append is now in flight
  loop.propose(Buffer.from('b'), refuse('b')); // queued behind that Ready
  await loop.stop();
  loop.propose(Buffer.from('c'), refuse('c'));
  assert.deepEqual(refused, ['b: RAFT_PROPOSAL_DROPPED', 'c: RAFT_PROPOSAL_DROPPED']);
  assert.deepEqual(failures, []);
});
