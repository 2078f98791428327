import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_PARTS, maxObjectBytes, partBytes } from '../../../src/snapshot/stores/s3-part-size.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

test('parts keep their first size for archives up to ~5 GiB, then double every 1,000 up to 64 MiB', () => {
  assert.equal(partBytes(0, 5 * MiB), 5 * MiB);
  assert.equal(partBytes(999, 5 * MiB), 5 * MiB);
  assert.equal(partBytes(1000, 5 * MiB), 10 * MiB);
  assert.equal(partBytes(2000, 5 * MiB), 20 * MiB);
  assert.equal(partBytes(3999, 5 * MiB), 40 * MiB);
  assert.equal(partBytes(4000, 5 * MiB), 64 * MiB);
  assert.equal(partBytes(MAX_PARTS - 1, 5 * MiB), 64 * MiB);
  assert.equal(partBytes(9000, 100 * MiB), 100 * MiB, 'a first part above the cap keeps its size');
});

test("10,000 parts of a 5 MiB start hold 448 GiB, against 48 GiB at a fixed 5 MiB, and no part is below S3's minimum", () => {
  assert.equal(Math.floor(maxObjectBytes(5 * MiB) / GiB), 448);
  for (let index = 0; index < MAX_PARTS; index++) assert.ok(partBytes(index, 5 * MiB) >= 5 * MiB);
  assert.equal(maxObjectBytes(MiB, 3), 3 * MiB);
});
