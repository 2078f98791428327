import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../../src/util/byte-size.js';

test('formatBytes: whole bytes below 1 KiB, then binary units with one decimal', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(3 * 256 * 1024), '768.0 KiB');
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GiB');
  assert.equal(formatBytes(2048 * 1024 ** 4), '2048.0 TiB');
});
