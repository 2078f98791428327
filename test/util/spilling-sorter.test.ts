import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { SpillingSorter } from '../../src/util/spilling-sorter.js';
import { assertFullDiskFailure, smallDisk, seededBytes, seededRandom, tempDir } from '../support/index.js';

interface Item {
  order: number;
  key: Buffer;
  payload: Buffer;
}

/**
 * Seeded items: orders often shared (as keys of one transaction share a revision), keys unique,
 * a few payloads larger than the sorter's write and read buffers.
 */
function makeItems(seed: number, count: number): Item[] {
  const random = seededRandom(seed);
  const items: Item[] = [];
  for (let i = 0; i < count; i++) {
    const big = random() < 0.002;
    const payloadBytes = big ? 1024 * 1024 + Math.floor(random() * 600_000) : Math.floor(random() * 400);
    items.push({
      order: 1 + Math.floor(random() * count * 0.3),
      key: Buffer.concat([seededBytes(random, Math.floor(random() * 40)), Buffer.from(`#${i}`)]),
      payload: seededBytes(random, payloadBytes),
    });
  }
  return items;
}

function sortedAsPlainSort(items: Item[]): string[] {
  return [...items].sort((a, b) => a.order - b.order || Buffer.compare(a.key, b.key)).map(describe);
}

function describe(item: Item): string {
  return `${item.order}/${item.key.toString('hex')}/${item.payload.length}/${item.payload.subarray(0, 16).toString('hex')}/${item.payload.subarray(-16).toString('hex')}`;
}

for (const [label, memoryBytes] of [
  ['in memory', 256 * 2 ** 20],
  ['in runs of about 64 KiB', 64 * 1024],
  ['one run per item (more runs than are merged at once, so some are merged twice)', 1],
] as const) {
  test(`SpillingSorter gives the order of a plain sort, ${label}`, () => {
    const seed = Number(process.env['STRATA_TEST_SEED'] ?? Date.now() % 1_000_000);
    const items = makeItems(seed, 3000);
    const dir = tempDir('spilling-sorter');
    try {
      const sorter = new SpillingSorter({ purpose: 'sort items', directory: dir.path, memoryBytes });
      for (const item of items) sorter.add(item.order, item.key, item.payload);
      const got: string[] = [];
      // Each item's views are read before the next is asked for, as the sorter requires.
      for (const item of sorter.sorted()) got.push(describe(item));
      assert.deepEqual(got, sortedAsPlainSort(items), `seed ${seed} (STRATA_TEST_SEED)`);
      if (memoryBytes === 1) assert.ok(readdirSync(dir.path).length === 1, 'the runs went to a directory of their own');
      sorter.close();
      assert.deepEqual(readdirSync(dir.path), [], 'close removes every run');
    } finally {
      dir.remove();
    }
  });
}

test('SpillingSorter on a full disk fails with one line naming the work, the directory and TMPDIR', (t) => {
  const disk = smallDisk(t, 64 * 1024);
  if (disk === undefined) return;
  const sorter = new SpillingSorter({ purpose: 'sort keys', directory: disk, memoryBytes: 1 });
  assertFullDiskFailure(
    disk,
    { purpose: 'sort keys', prefix: 'strata-sort-' },
    () => {
      for (let i = 0; i < 100_000; i++) sorter.add(i % 7, Buffer.from(`a-long-enough-key-${i}`), Buffer.alloc(100));
      for (const item of sorter.sorted()) assert.ok(item);
    },
    () => sorter.close(),
  );
});
