import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { ByteKeyTable } from '../../src/util/byte-key-table.js';
import { SpillingKeyTable } from '../../src/util/spilling-key-table.js';
import { SpillingU32Log } from '../../src/util/spilling-u32-log.js';
import { assertFullDiskFailure, smallDisk, seededBytes, seededRandom, tempDir } from '../support/index.js';

const SEED = 20261127;

/** Per key: how many records it had and the sum of their numbers; a record of -1 is refused. */
function countingTable(directory: string, memoryBytes?: number): SpillingKeyTable {
  return new SpillingKeyTable({
    stateFields: 2,
    recordFields: 1,
    purpose: 'count keys',
    directory,
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    apply: (table: ByteKeyTable, key: Buffer, record: Float64Array) => {
      if (record[0] === -1) throw new Error(`refused ${key.toString('latin1')}`);
      const found = table.find(key);
      const entry = found >= 0 ? found : table.add(key);
      table.set(entry, 0, table.get(entry, 0) + 1);
      table.set(entry, 1, table.get(entry, 1) + record[0]!);
    },
  });
}

function collect(keys: SpillingKeyTable): Map<string, [number, number]> {
  const seen = new Map<string, [number, number]>();
  keys.finish((table) => {
    table.forEachLive((entry) => {
      const id = table.keyOf(entry).toString('latin1');
      assert.ok(!seen.has(id), `key ${JSON.stringify(id)} in two tables`);
      seen.set(id, [table.get(entry, 0), table.get(entry, 1)]);
    });
  });
  return seen;
}

test('SpillingKeyTable gives every key the same state in memory and through temporary files, and leaves no file', () => {
  const random = seededRandom(SEED);
  const records: Array<[Buffer, number]> = [];
  for (let i = 0; i < 40_000; i++) {
    // Many short keys repeated, and a few long ones that take the read and write buffers' edges.
    const key = random() < 0.001 ? seededBytes(random, 300_000 + Math.floor(random() * 200_000)) : Buffer.from(`k${Math.floor(random() * 5_000)}`);
    records.push([key, Math.floor(random() * 1000)]);
  }
  const dir = tempDir('spilling-key-table');
  try {
    const results = [256 * 2 ** 20, 4096, 1].map((memoryBytes) => {
      const keys = countingTable(dir.path, memoryBytes);
      const record = new Float64Array(1);
      for (const [key, n] of records) {
        record[0] = n;
        keys.add(key, record);
      }
      assert.equal(keys.spilled, memoryBytes < 2 ** 20, `spilled with a budget of ${memoryBytes} bytes (seed ${SEED})`);
      return collect(keys);
    });
    assert.ok(results[0]!.size > 4_000);
    assert.deepEqual(results[1], results[0], `a 4 KiB budget (seed ${SEED})`);
    assert.deepEqual(results[2], results[0], `a 1-byte budget, every file split to the last hash bits (seed ${SEED})`);
    assert.deepEqual(readdirSync(dir.path), [], 'the temporary files are gone');
  } finally {
    dir.remove();
  }
});

test('SpillingKeyTable throws what apply threw for the earliest record, spilled or not, and cleans up', () => {
  const random = seededRandom(SEED + 1);
  const records = Array.from({ length: 20_000 }, (_, i): [Buffer, number] => [Buffer.from(`key-${Math.floor(random() * 3_000)}`), i]);
  // Refused records in several keys (and so in several spilled files): the first one wins.
  const refused = [15_000, 9_000, 12_345].map((i) => (records[i]![1] = -1, i));
  const dir = tempDir('spilling-key-table-error');
  try {
    for (const memoryBytes of [undefined, 1]) {
      const keys = countingTable(dir.path, memoryBytes);
      const record = new Float64Array(1);
      const run = (): void => {
        for (const [key, n] of records) {
          record[0] = n;
          keys.add(key, record);
        }
        keys.finish(() => undefined);
      };
      assert.throws(run, { message: `refused ${records[Math.min(...refused)]![0].toString('latin1')}` }, `budget ${memoryBytes}`);
      keys.close();
      assert.deepEqual(readdirSync(dir.path), []);
    }
  } finally {
    dir.remove();
  }
});

test('SpillingU32Log reads back every tuple in order from memory and from its file', () => {
  const dir = tempDir('spilling-u32-log');
  try {
    const log = new SpillingU32Log({ width: 3, purpose: 'log', directory: dir.path, memoryBytes: 1 });
    const tuple = new Uint32Array(3);
    const count = 700_000;
    for (let i = 0; i < count; i++) {
      tuple.set([i, i * 7, 0xffffffff - i]);
      assert.equal(log.push(tuple), i);
    }
    assert.equal(readdirSync(dir.path).length, 1, 'past its budget the log is in a file');
    let next = 0;
    log.forEach((index, values, at) => {
      const [a, b, c] = values.subarray(at, at + 3);
      assert.equal(index, next++);
      if (a !== index || b !== (index * 7) >>> 0 || c !== 0xffffffff - index) assert.fail(`tuple ${index}: ${a}, ${b}, ${c}`);
    });
    assert.equal(next, count);
    log.close();
    assert.deepEqual(readdirSync(dir.path), []);
  } finally {
    dir.remove();
  }
});

test('SpillingKeyTable on a full disk fails with one line naming the work, the directory and TMPDIR', (t) => {
  const disk = smallDisk(t, 64 * 1024);
  if (disk === undefined) return;
  const keys = countingTable(disk, 1);
  const record = new Float64Array([1]);
  assertFullDiskFailure(
    disk,
    { purpose: 'count keys', prefix: 'strata-keys-' },
    () => {
      for (let i = 0; i < 100_000; i++) keys.add(Buffer.from(`a-long-enough-key-${i}`), record);
      keys.finish(() => undefined);
    },
    () => keys.close(),
  );
});
