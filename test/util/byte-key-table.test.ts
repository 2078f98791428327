import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteKeyTable } from '../../src/util/byte-key-table.js';
import { seededBytes, seededRandom } from '../support/index.js';

const SEED = 20261126;

/**
 * Random adds, deletes, lookups and field writes against a Map of the same keys: every answer,
 * the size and the live entries in insertion order must agree. Short keys from a small alphabet
 * collide often, so probe runs and backward-shift deletion get exercised; a few keys are larger
 * than a key block.
 */
test('ByteKeyTable agrees with a Map under random adds, finds-or-adds, deletes and writes', () => {
  const random = seededRandom(SEED);
  const table = new ByteKeyTable(2);
  const model = new Map<string, { entry: number; a: number; b: number }>();
  const randomKey = (): Buffer => {
    const roll = random();
    if (roll < 0.0005) return seededBytes(random, 1024 * 1024 + Math.floor(random() * 4096));
    return Buffer.from(Array.from({ length: 1 + Math.floor(random() * 4) }, () => 97 + Math.floor(random() * 6)));
  };
  try {
    for (let step = 0; step < 60_000; step++) {
      const key = randomKey();
      const id = key.toString('latin1');
      const known = model.get(id);
      assert.equal(table.find(key), known?.entry ?? -1, `find at step ${step}`);
      const roll = random();
      if (known === undefined && roll < 0.6) {
        const entry = roll < 0.3 ? table.add(key) : table.findOrAdd(key);
        const value = { entry, a: step, b: -step * 1.5 };
        table.set(entry, 0, value.a);
        table.set(entry, 1, value.b);
        model.set(id, value);
      } else if (known !== undefined && roll < 0.5) {
        assert.equal(table.delete(key), true);
        model.delete(id);
      } else if (known !== undefined) {
        if (roll < 0.6) assert.equal(table.findOrAdd(key), known.entry, `findOrAdd of a live key at step ${step}`);
        assert.equal(table.get(known.entry, 0), known.a);
        assert.equal(table.get(known.entry, 1), known.b);
        known.a = step * 2 ** 40;
        table.set(known.entry, 0, known.a);
      } else {
        assert.equal(table.delete(key), false);
      }
      assert.equal(table.size, model.size);
    }
    const live: number[] = [];
    table.forEachLive((entry) => live.push(entry));
    assert.deepEqual(live, [...model.values()].map((v) => v.entry).sort((x, y) => x - y));
  } catch (err) {
    throw new Error(`seed ${SEED}: ${(err as Error).message}`, { cause: err });
  }
});

test('ByteKeyTable: a key added again after its delete is a new entry at the end, and the empty key is a key', () => {
  const table = new ByteKeyTable(1);
  const first = table.add(Buffer.from('a'));
  const empty = table.add(Buffer.alloc(0));
  assert.equal(table.find(Buffer.alloc(0)), empty);
  table.delete(Buffer.from('a'));
  const again = table.add(Buffer.from('a'));
  assert.notEqual(again, first);
  const live: number[] = [];
  table.forEachLive((entry) => live.push(entry));
  assert.deepEqual(live, [empty, again]);
  assert.equal(table.get(again, 0), 0, 'a new entry starts with its fields at 0');
});

test('ByteKeyTable finds keys across key blocks: ones that would not fit the rest of a block, and ones larger than a block', () => {
  const random = seededRandom(SEED + 1);
  const table = new ByteKeyTable(1);
  // 1,000-byte keys fill a 1 MiB block with 576 bytes to spare, so every 1,049th starts a new block.
  const keys = Array.from({ length: 3_000 }, (_, i) => Buffer.concat([Buffer.from(`${i}:`), seededBytes(random, 998 - String(i).length)]));
  const huge = [seededBytes(random, 2 * 1024 * 1024 + 7), seededBytes(random, 1024 * 1024 + 1)];
  const all = [keys[0]!, huge[0]!, ...keys.slice(1, 1_500), huge[1]!, ...keys.slice(1_500)];
  all.forEach((key, i) => table.set(table.add(key), 0, i));
  try {
    // Copies, so that a match is by bytes, not by the buffer that was added.
    all.forEach((key, i) => assert.equal(table.get(table.find(Buffer.from(key)), 0), i, `key ${i} of ${all.length} (${key.length} bytes)`));
    const changed = Buffer.from(huge[0]!);
    changed[changed.length - 1] = changed.at(-1)! ^ 1;
    assert.equal(table.find(changed), -1, 'a huge key that differs in its last byte is not found');
    assert.equal(table.find(huge[0]!.subarray(0, 1000)), -1);
  } catch (err) {
    throw new Error(`seed ${SEED + 1}: ${(err as Error).message}`, { cause: err });
  }
});

test('ByteKeyTable.clear empties the table and refills it in the memory it already holds', () => {
  const table = new ByteKeyTable(2);
  const fill = (round: number): void => {
    for (let i = 0; i < 50_000; i++) {
      const entry = table.add(Buffer.from(`round-${round}-key-${i}`));
      assert.equal(table.get(entry, 0), 0, 'a new entry starts with its fields at 0');
      table.set(entry, 0, i + 1);
    }
  };
  fill(1);
  table.add(Buffer.alloc(3 * 1024 * 1024, 1));
  const held = table.byteSize;
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.bytesInUse, 0);
  assert.equal(table.find(Buffer.from('round-1-key-7')), -1);
  fill(2);
  assert.equal(table.find(Buffer.from('round-1-key-7')), -1);
  assert.equal(table.get(table.find(Buffer.from('round-2-key-7')), 0), 8);
  assert.ok(table.byteSize <= held - 3 * 1024 * 1024, `no new memory for the same keys again (${table.byteSize} of ${held} bytes)`);
});
