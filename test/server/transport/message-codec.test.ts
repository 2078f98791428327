import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType, message } from '../../../src/raft/index.js';
import { decodeMessages, encodeMessages } from '../../../src/server/transport/message-codec.js';

test('raft messages round-trip through the peer codec, full 64-bit IDs and empty fields included', () => {
  const messages = [
    message({
      type: MessageType.MsgApp,
      to: 0xffff_ffff_ffff_fffen,
      from: 0x8000_0000_0000_0001n,
      term: 7,
      logTerm: 6,
      index: 2 ** 40,
      commit: 99,
      entries: [
        { term: 6, index: 2 ** 40 + 1, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
        { term: 7, index: 2 ** 40 + 2, type: EntryType.ConfChange, data: new Uint8Array(0) },
      ],
    }),
    message({ type: MessageType.MsgAppResp, to: 1n, from: 2n, term: 7, reject: true, rejectHint: 12, logTerm: 3 }),
    message({ type: MessageType.MsgReadIndexResp, to: 1n, from: 2n, context: new Uint8Array([9, 9]) }),
    message({ type: MessageType.MsgHup }),
  ];
  assert.deepEqual(decodeMessages(encodeMessages(messages)), messages);
  assert.deepEqual(decodeMessages(encodeMessages([])), []);
});

test('a truncated batch is refused, not half-read', () => {
  const bytes = encodeMessages([message({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 3, commit: 4 })]);
  assert.throws(() => decodeMessages(bytes.subarray(0, bytes.length - 1)), /raft message/);
});
