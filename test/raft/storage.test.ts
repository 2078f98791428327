import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import {
  ConfChangeType,
  decodeConfChangeEntry,
  decodeConfChangeV1,
  decodeConfChangeV2,
  encodeConfChange,
  encodeConfChangeV1,
  EntryType,
  MemoryStorage,
  type Entry,
} from '../../src/raft/index.js';

const ents = (from: number, terms: number[]): Entry[] =>
  terms.map((term, i) => ({ index: from + i, term, type: EntryType.Normal, data: new Uint8Array([i]) }));

test('MemoryStorage appends, overwrites a conflicting suffix, compacts and snapshots', () => {
  const s = new MemoryStorage();
  s.append(ents(1, [1, 1, 2, 2]));
  assert.equal(s.lastIndex(), 4);
  s.append(ents(3, [3])); // replaces 3 and 4
  assert.deepEqual(s.entries(1, 4, Infinity).map((e) => e.term), [1, 1, 3]);
  assert.equal(s.lastIndex(), 3);
  assert.throws(() => s.append(ents(6, [3])), { code: 'RAFT_INVARIANT' }, 'a gap is refused');

  const cs = { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  s.createSnapshot(2, cs, new Uint8Array([9]));
  s.compact(2);
  assert.equal(s.firstIndex(), 3);
  assert.equal(s.term(2), 1, 'the term of the compaction point stays known');
  assert.throws(() => s.term(1), { code: 'RAFT_COMPACTED' });
  assert.throws(() => s.entries(2, 3, Infinity), { code: 'RAFT_COMPACTED' });
  assert.throws(() => s.term(9), { code: 'RAFT_UNAVAILABLE' });
  assert.throws(() => s.createSnapshot(1, cs, new Uint8Array()), { code: 'RAFT_SNAP_OUT_OF_DATE' });

  s.applySnapshot({ metadata: { index: 10, term: 4, confState: cs }, data: new Uint8Array() });
  assert.equal(s.firstIndex(), 11);
  assert.equal(s.lastIndex(), 10);
  assert.equal(s.term(10), 4);
});

test('MemoryStorage.entries honours the size limit but returns at least one entry', () => {
  const s = new MemoryStorage();
  s.append(ents(1, [1, 1, 1, 1]));
  assert.equal(s.entries(1, 5, 0).length, 1);
  assert.equal(s.entries(1, 5, 34).length, 2); // 17 bytes an entry as counted
  assert.equal(s.entries(1, 5, Infinity).length, 4);
});

test('conf changes encode as etcd raftpb messages and decode back', () => {
  const v1 = { kind: 'v1' as const, id: 7n, type: ConfChangeType.AddLearnerNode, nodeId: 0x8e9e05c52164694dn, context: new Uint8Array([1, 2]) };
  // raftpb.ConfChange{ID, Type, NodeID, Context} (fields 1-4), written independently with protobufjs.
  const want = protobuf.Writer.create().uint32(8).uint64('7').uint32(16).uint64(3).uint32(24).uint64(v1.nodeId.toString()).uint32(34).bytes(v1.context).finish();
  const bytes = encodeConfChangeV1(v1);
  assert.equal(Buffer.from(bytes).toString('hex'), Buffer.from(want).toString('hex'));
  assert.deepEqual(decodeConfChangeV1(bytes), v1);

  const v2 = {
    kind: 'v2' as const,
    transition: 2 as const,
    changes: [
      { type: ConfChangeType.AddNode, nodeId: 4n },
      { type: ConfChangeType.RemoveNode, nodeId: 3n },
    ],
    context: new Uint8Array([5]),
  };
  const { type, data } = encodeConfChange(v2);
  assert.equal(type, EntryType.ConfChangeV2);
  assert.deepEqual(decodeConfChangeV2(data), v2);
  assert.deepEqual(decodeConfChangeEntry({ index: 1, term: 1, type, data }), v2);
  assert.equal(decodeConfChangeEntry({ index: 1, term: 1, type: EntryType.Normal, data }), undefined);
  assert.deepEqual(decodeConfChangeV2(new Uint8Array()).changes, [], 'empty data is the leave-joint change');
  assert.throws(() => decodeConfChangeV2(new Uint8Array([0x12, 0x05, 0x08])), { code: 'RAFT_INVALID_CONF_CHANGE' });
});
