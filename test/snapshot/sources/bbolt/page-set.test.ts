import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PageSet } from '../../../../src/snapshot/sources/bbolt/page-set.js';

test('PageSet holds exactly the ids added, listed ascending, up to the last page', () => {
  const set = new PageSet(21);
  const added = [20, 0, 7, 8, 9, 15, 16];
  for (const id of added) set.add(id);
  set.add(8);
  assert.deepEqual(set.ids(), [0, 7, 8, 9, 15, 16, 20]);
  for (let id = 0; id < 21; id++) assert.equal(set.has(id), added.includes(id), `page ${id}`);
  assert.deepEqual(new PageSet(0).ids(), []);
});
