import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TrailerHasher } from '../../../src/snapshot/sources/sha256-trailer.js';

test('TrailerHasher hashes all but the last 32 bytes, whatever the chunk sizes', () => {
  const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131) & 0xff));
  const expected = createHash('sha256').update(data.subarray(0, data.length - 32)).digest('hex');
  for (const sizes of [[3000], [1, 31, 32, 33, 2903], [2968, 32], [2999, 1], [10, 10, 10, 10, 2960], [100, 5, 2895]]) {
    const hasher = new TrailerHasher();
    let at = 0;
    for (const size of sizes) {
      hasher.update(data.subarray(at, at + size));
      at += size;
    }
    assert.deepEqual(hasher.digest(), { fileBytes: data.length, computed: expected }, `chunks ${sizes.join(',')}`);
  }
});
