import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType, message, type Message } from '../../../src/raft/index.js';
import { FrameDecoder, encodeFrame } from '../../../src/server/transport/frame-codec.js';
import { seededRandom } from '../../support/random.js';

test('frames cut at any byte boundaries decode to the same batches, in order', () => {
  const seed = Number(process.env['STRATA_TEST_SEED'] ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const batches: Message[][] = Array.from({ length: 50 }, (_, b) =>
    Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) =>
      message({
        type: MessageType.MsgApp,
        to: 1n,
        from: 0xffff_ffff_ffff_fff0n,
        term: 3,
        index: b * 10 + i,
        entries: [{ type: EntryType.Normal, term: 3, index: b * 10 + i + 1, data: new Uint8Array(Math.floor(random() * 3000)).fill(b) }],
      }),
    ),
  );
  const stream = Buffer.concat(batches.map((batch) => encodeFrame(batch)));
  const decoder = new FrameDecoder(1 << 20);
  const got: Message[][] = [];
  for (let at = 0; at < stream.length; ) {
    // Mostly small pieces (a prefix split over chunks), sometimes several frames at once.
    const size = random() < 0.8 ? 1 + Math.floor(random() * 7) : 1 + Math.floor(random() * 20_000);
    got.push(...decoder.push(stream.subarray(at, at + size)));
    at += size;
  }
  assert.deepEqual(got, batches, `seed ${seed} (STRATA_TEST_SEED)`);
});

test('a frame over the limit is refused from its length prefix, before its bytes arrive', () => {
  const frame = encodeFrame([message({ type: MessageType.MsgApp, to: 1n, from: 2n, entries: [{ type: EntryType.Normal, term: 1, index: 1, data: new Uint8Array(2000) }] })]);
  const decoder = new FrameDecoder(1000);
  assert.throws(() => decoder.push(frame.subarray(0, 4)), /raft message frame of \d+ bytes, over the limit of 1000/);
});

test('a frame whose batch does not decode is refused', () => {
  const garbage = Buffer.from([0, 0, 0, 3, 0x0a, 0x05, 0x01]);
  assert.throws(() => new FrameDecoder(1000).push(garbage));
});
