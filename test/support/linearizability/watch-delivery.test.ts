import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWatchDelivery, type DeliveredEvent } from './watch-delivery.js';

const put = (revision: number, value = `v${revision}`): DeliveredEvent => ({ revision, key: 'k', value });
const committed = new Map([[3, { key: 'k', value: 'v3' }]]);

test('complete, ordered watch logs that agree with the committed writes pass', () => {
  const logs = [
    { name: 'w1', startRevision: 2, events: [put(2), put(3), put(4)] },
    { name: 'w2', startRevision: 3, events: [put(3), put(4)] },
  ];
  assert.deepEqual(checkWatchDelivery(logs, 4, committed), []);
});

test('gaps, duplicates, reordering, disagreement, a wrong last value and stopping early are each named', () => {
  const problems = (events: DeliveredEvent[], last = 4) => checkWatchDelivery([{ name: 'w', startRevision: 2, events }], last, committed);
  assert.deepEqual(problems([put(2), put(4)]), ['w: revisions 3..3 never delivered (gap)']);
  assert.deepEqual(problems([put(2), put(3), put(3), put(4)]), ['w: revision 3 delivered after 3 (out of order or duplicate)']);
  assert.deepEqual(problems([put(2), put(3)]), ['w: revisions 4..4 never delivered (stopped early)']);
  assert.deepEqual(problems([put(2), put(3, 'other'), put(4)]), ['w: revision 3 delivered k=other but a client committed k=v3 there']);
  assert.deepEqual(checkWatchDelivery([{ name: 'w', startRevision: 2, events: [put(2), put(3)] }], 3, committed, new Map([['k', 'v2']])), [
    'w: the last event of k is v3, a Range at 3 reads v2',
  ]);
  assert.deepEqual(
    checkWatchDelivery([{ name: 'a', startRevision: 2, events: [put(2)] }, { name: 'b', startRevision: 2, events: [put(2, 'x')] }], 2, committed),
    ['b: revision 2 is k=x, a got k=v2'],
  );
});
