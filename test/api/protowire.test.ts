import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoReader, ProtoWriter } from '../../src/api/protowire.js';
import { seededRandom } from '../support/random.js';

test('int64 varints: protobuf\'s bytes at every boundary of the two halves, negatives as ten bytes', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '00'],
    [1n, '01'],
    [127n, '7f'],
    [128n, '8001'],
    [(1n << 28n) - 1n, 'ffffff7f'],
    [1n << 28n, '8080808001'],
    [(1n << 35n) + 5n, '858080808001'],
    [(1n << 63n) - 1n, 'ffffffffffffffff7f'],
    [-1n, 'ffffffffffffffffff01'],
    [-(1n << 63n), '80808080808080808001'],
  ];
  for (const [value, hex] of cases) {
    const bytes = new ProtoWriter().int64(value).finish();
    assert.equal(bytes.toString('hex'), hex, `${value}`);
    assert.equal(new ProtoReader(bytes, 'test').int64(), value, `${value}`);
  }
});

test('int64 varints round-trip for values of every bit length', () => {
  const seed = Number(process.env['STRATA_TEST_SEED'] ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const word = (): bigint => BigInt(Math.floor(random() * 2 ** 32));
  for (let i = 0; i < 20_000; i++) {
    const bits = BigInt(1 + Math.floor(random() * 64));
    const value = BigInt.asIntN(64, ((word() << 32n) | word()) & ((1n << bits) - 1n));
    const bytes = new ProtoWriter().int64(value).finish();
    assert.equal(new ProtoReader(bytes, 'test').int64(), value, `seed ${seed} (STRATA_TEST_SEED): ${value}`);
  }
});
