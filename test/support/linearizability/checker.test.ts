import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../random.js';
import { bruteForceLinearizable } from './brute-force.js';
import { HistoryRecorder, renumber, type Operation } from './history.js';
import { kvModel, type KvInput, type KvOutput } from './kv-model.js';
import { checkPerKey } from './per-key.js';
import { corruptKvHistory, linearizableKvHistory, type RandomHistory } from './random-history.js';
import { settleUnknownWrites } from './settle-writes.js';
import { checkOperations } from './wing-gong.js';

const baseSeed = Number(process.env['STRATA_TEST_SEED'] ?? Date.now() % 1_000_000);

function check(history: RandomHistory) {
  const model = kvModel((revision) => history.valueAtRevision.get(revision));
  return { search: checkOperations(model, history.ops).ok, brute: bruteForceLinearizable(model, history.ops) };
}

test('the memoized search agrees with the brute-force checker on thousands of small random histories', () => {
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const seed = baseSeed + i;
    const random = seededRandom(seed);
    const options = { clients: 2 + Math.floor(random() * 3), operations: 2 + Math.floor(random() * 6), unknownRate: 0.2 };
    const good = linearizableKvHistory(random, options);
    const verdict = check(good);
    assert.deepEqual(verdict, { search: true, brute: true }, `seed ${seed}: a register-made history must linearize`);
    const bad = corruptKvHistory(random, good);
    const corrupted = check(bad);
    assert.equal(corrupted.search, corrupted.brute, `seed ${seed}: search says ${corrupted.search}, brute force ${corrupted.brute}`);
    if (!corrupted.brute) rejected++;
  }
  assert.ok(rejected > 500, `base seed ${baseSeed}: only ${rejected} corrupted histories were non-linearizable; the comparison proves little`);
});

test('larger random histories linearize within the step budget (memoization keeps the search small)', () => {
  for (let i = 0; i < 20; i++) {
    const seed = baseSeed + 10_000 + i;
    const history = linearizableKvHistory(seededRandom(seed), { clients: 8, operations: 300, unknownRate: 0.05 });
    const result = checkOperations(kvModel((r) => history.valueAtRevision.get(r)), history.ops, { maxSteps: 2_000_000 });
    assert.deepEqual(result, { ok: true }, `seed ${seed}`);
  }
});

test('a stale read after a completed write is rejected, and the explanation names the read and the state', () => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  recorder.invoke(1, { key: 'k', kind: 'put', value: 'old' }).ok({ kind: 'put' });
  recorder.invoke(1, { key: 'k', kind: 'put', value: 'new' }).ok({ kind: 'put' });
  recorder.invoke(2, { key: 'k', kind: 'get' }).ok({ kind: 'get', value: 'old' });
  const result = checkOperations(kvModel(() => undefined), recorder.operations());
  assert.equal(result.ok, false);
  assert.ok(result.ok === false);
  assert.match(result.explanation, /at most 2 of 3 operations linearize, leaving state "new"/);
  assert.match(result.explanation, /#2 client 2 get k -> "old" \[call 5, return 6\]: impossible in that state/);
});

test('an operation with unknown outcome may or may not have taken effect, but not both', () => {
  const ops = (readA: string | null, readB: string | null): Operation<KvInput, KvOutput>[] => {
    const recorder = new HistoryRecorder<KvInput, KvOutput>();
    const lost = recorder.invoke(1, { key: 'k', kind: 'put', value: 'x' });
    recorder.invoke(2, { key: 'k', kind: 'get' }).ok({ kind: 'get', value: readA });
    recorder.invoke(2, { key: 'k', kind: 'get' }).ok({ kind: 'get', value: readB });
    lost.unknown();
    return recorder.operations();
  };
  const model = kvModel(() => undefined);
  assert.equal(checkOperations(model, ops(null, null)).ok, true, 'never took effect');
  assert.equal(checkOperations(model, ops(null, 'x')).ok, true, 'took effect between the reads');
  assert.equal(checkOperations(model, ops('x', null)).ok, false, 'a write cannot be undone');
});

test('a compare on mod_revision holds exactly when the key holds the value written at that revision', () => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  recorder.invoke(1, { key: 'k', kind: 'put', value: 'a' }).ok({ kind: 'put' });
  recorder.invoke(1, { key: 'k', kind: 'cas', compare: { modRevision: 1 }, value: 'b' }).ok({ kind: 'cas', succeeded: true });
  recorder.invoke(1, { key: 'k', kind: 'cas', compare: { modRevision: 1 }, value: 'c' }).ok({ kind: 'cas', succeeded: true });
  const revisions = new Map([[1, 'a'], [2, 'b']]);
  const result = checkOperations(kvModel((r) => revisions.get(r)), recorder.operations());
  assert.equal(result.ok, false, 'the second txn compared against a revision the key no longer had');
});

test('checkPerKey checks each key alone and names the key that fails', () => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  recorder.invoke(1, { key: 'a', kind: 'put', value: '1' }).ok({ kind: 'put' });
  recorder.invoke(2, { key: 'b', kind: 'put', value: '2' }).ok({ kind: 'put' });
  recorder.invoke(1, { key: 'a', kind: 'get' }).ok({ kind: 'get', value: '1' });
  recorder.invoke(2, { key: 'b', kind: 'get' }).ok({ kind: 'get', value: null });
  const results = checkPerKey(kvModel(() => undefined), recorder.operations(), (input) => input.key);
  assert.deepEqual(results.map((r) => [r.key, r.operations, r.result.ok]), [['a', 2, true], ['b', 2, false]]);
});

test('unknown writes settle by the write log: one whose value was written took effect, one whose value never was did not', () => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  const lost = recorder.invoke(1, { key: 'k', kind: 'put', value: 'lost' });
  const landed = recorder.invoke(2, { key: 'k', kind: 'cas', compare: { value: null }, value: 'landed' });
  lost.unknown();
  landed.unknown();
  recorder.invoke(3, { key: 'k', kind: 'get' }).ok({ kind: 'get', value: 'landed' });
  const settled = settleUnknownWrites(recorder.operations(), (value) => value === 'landed');
  assert.deepEqual(
    settled.map((op) => [op.input.kind, op.output]),
    [['cas', { kind: 'cas', succeeded: true }], ['get', { kind: 'get', value: 'landed' }]],
  );
  assert.equal(checkOperations(kvModel(() => undefined), renumber(settled)).ok, true);
  const readLost = new HistoryRecorder<KvInput, KvOutput>();
  readLost.invoke(1, { key: 'k', kind: 'put', value: 'lost' }).unknown();
  readLost.invoke(2, { key: 'k', kind: 'get' }).ok({ kind: 'get', value: 'lost' });
  const unsettled = checkOperations(kvModel(() => undefined), renumber(settleUnknownWrites(readLost.operations(), () => false)));
  assert.equal(unsettled.ok, false, 'a read of a value the write log never had is caught');
});
