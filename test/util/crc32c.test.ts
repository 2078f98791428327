import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Crc32c, crc32c } from '../../src/util/crc32c.js';

test('CRC-32C matches the published check value and known vectors', () => {
  // RFC 3720 (iSCSI) check value for "123456789".
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

test('incremental CRC-32C over any split equals the one-shot value', () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
  const whole = crc32c(data);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    assert.equal(new Crc32c().update(data.subarray(0, cut)).update(data.subarray(cut)).digest(), whole, `cut at ${cut}`);
  }
});
