import assert from 'node:assert/strict';
import test from 'node:test';
import { HashKvHasher } from '../../src/api/revision.js';
import { referenceHashKv } from '../support/hashkv-reference.js';
import { seededRandom } from '../support/random.js';

test('HashKvHasher hashes each revision key as etcd writes it, revisions past 2^32 and tombstones included', () => {
  const seed = 20261126;
  const random = seededRandom(seed);
  const records = Array.from({ length: 200 }, (_, i) => ({
    main: i % 3 === 0 ? 2 ** 32 + i * 7919 : i + 1,
    sub: i % 5 === 0 ? 2 ** 40 + i : i % 4,
    tombstone: random() < 0.3,
    value: Buffer.from(`value ${i} ${random()}`),
  }));
  const hasher = new HashKvHasher();
  for (const r of records) hasher.addRecord(r.main, r.sub, r.tombstone, r.value);
  assert.equal(hasher.digest(), referenceHashKv(records), `seed ${seed}`);
  assert.equal(new HashKvHasher().digest(), referenceHashKv([]));
});
