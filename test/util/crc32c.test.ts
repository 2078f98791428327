import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Crc32c, crc32c, crc32cCombine, crc32cIsNative, crc32cJs } from '../../src/util/crc32c.js';
import { seededBytes, seededRandom } from '../support/index.js';

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

/** The textbook bit-at-a-time CRC-32C, to check the sliced one against. */
function bitwise(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A seeded generator of 32-bit values and `length` bytes drawn from it; failures name the seed. */
function seeded(seed: number, length: number): { bytes: Buffer; next: () => number } {
  const random = seededRandom(seed);
  return { bytes: seededBytes(random, length), next: () => Math.floor(random() * 2 ** 32) };
}

test('CRC-32C of views at every alignment and length, in one buffer and across buffers, equals the bitwise one', () => {
  const seed = 0x5eed;
  const { bytes: block, next } = seeded(seed, 4096);
  const other = Buffer.from(block.subarray(100, 1100));
  for (let start = 0; start < 8; start++) {
    for (const length of [0, 1, 3, 15, 16, 17, 63, 64, 65, 100, 255, 1000, 4000 - start]) {
      const view = block.subarray(start, start + length);
      const prior = next();
      assert.equal(crc32c(view, prior), bitwise(view, prior), `seed ${seed}: offset ${start}, length ${length}`);
      // Alternating buffers must not reuse the other's word view.
      assert.equal(crc32c(other.subarray(start, start + length)), bitwise(other.subarray(start, start + length)), `seed ${seed}: other buffer`);
    }
  }
});

test('the native CRC-32C equals the JS one on large inputs, chained and at odd offsets', () => {
  // npm ci installs the addon's prebuilt binary for Linux x64 (CI); elsewhere JS may be all there is.
  if (process.platform === 'linux' && process.arch === 'x64') assert.ok(crc32cIsNative, '@node-rs/crc32 does not load: run npm ci');
  const seed = 0xc3c3;
  const { bytes: block, next } = seeded(seed, 256 * 1024);
  for (const length of [512, 513, 4096, 65_537, 200_000]) {
    const start = next() % 7;
    const view = block.subarray(start, start + length);
    const prior = next();
    assert.equal(crc32c(view, prior), crc32cJs(view, prior), `seed ${seed}: offset ${start}, length ${length}`);
  }
});

test('Crc32c gathers small pieces and hashes large ones directly: any mix equals the one-shot value', () => {
  const seed = 0x9a7e;
  const { bytes: data, next } = seeded(seed, 300_000);
  const crc = new Crc32c();
  let at = 0;
  while (at < data.length) {
    // Mostly record-sized pieces, now and then one past the gather buffer.
    const size = next() % 10 === 0 ? 40_000 + (next() % 40_000) : next() % 6000;
    crc.update(data.subarray(at, at + size));
    at += size;
  }
  assert.equal(crc.digest(), crc32cJs(data), `seed ${seed}`);
});

test('crc32cCombine joins the CRCs of two pieces into the CRC of both, at any lengths', () => {
  const seed = 0xc0b1;
  const { bytes: data, next } = seeded(seed, 100_000);
  for (const cut of [0, 1, 2, 17, 4096, 65_537, 99_999, 100_000]) {
    const a = data.subarray(0, cut);
    const b = data.subarray(cut);
    assert.equal(crc32cCombine(crc32c(a), crc32c(b), b.length), crc32c(data), `seed ${seed}: cut at ${cut}`);
  }
  // Pieces of 4 GiB and more: shifting by lb then lc equals shifting by lb + lc.
  const [x, y, z] = [next(), next(), next()];
  const [lb, lc] = [2 ** 32, 2 ** 32 + 5];
  assert.equal(crc32cCombine(crc32cCombine(x, y, lb), z, lc), crc32cCombine(x, crc32cCombine(y, z, lc), lb + lc), `seed ${seed}`);
});
