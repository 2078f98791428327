// The MVCC invariant checker names the first broken record by revision and key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredKeyValue } from '../../src/api/mvccpb.js';
import { ArchiveReader, MvccChecker, MvccViolation, type MvccScope } from '../../src/archive/index.js';
import { IntegrityError } from '../../src/util/errors.js';
import { generateHistory, writeArchive } from './history.js';

type Step = [main: number, sub: number, key: string, version: number, create?: number, mod?: number];
const DEL = -1;

function kv(key: string, main: number, version: number, create: number, mod = main): StoredKeyValue {
  return { key: Buffer.from(key), createRevision: create, modRevision: mod, version, value: Buffer.from('v'), lease: 0n };
}

/** Per-key state in memory, and (a 1-byte budget) through temporary files from the first record on. */
const BUDGETS = [undefined, 1];

function checkerFor(scope: MvccScope, memoryBytes: number | undefined): MvccChecker {
  return new MvccChecker(scope, memoryBytes === undefined ? {} : { memoryBytes });
}

/**
 * Runs the steps with each budget; returns the violation's message, or undefined when all pass,
 * after asserting that both budgets agree.
 */
function run(steps: Step[], scope: MvccScope = { compactRevision: 0, contents: 'history' }): string | undefined {
  const outcomes = BUDGETS.map((memoryBytes) => {
    const checker = checkerFor(scope, memoryBytes);
    try {
      for (const [main, sub, key, version, create, mod] of steps) {
        if (version === DEL) checker.add(main, sub, true, kv(key, 0, 0, 0, 0));
        else checker.add(main, sub, false, kv(key, main, version, create ?? main, mod ?? main));
      }
      checker.finish();
    } catch (err) {
      checker.close();
      assert.ok(err instanceof MvccViolation);
      return err.message;
    }
    return undefined;
  });
  assert.equal(outcomes[1], outcomes[0], 'the same outcome with the keys in temporary files');
  return outcomes[0];
}

test('a generated history passes, and the live key count matches', () => {
  // The last history is large enough that its spilled files outgrow a 1-byte budget and are
  // split again, so records are replayed more than once.
  for (const [seed, revisions, keys] of [[1, 3000, 200], [2, 3000, 200], [3, 3000, 200], [4, 60_000, 5_000]] as const) {
    const history = generateHistory(seed, { revisions, keys, valueBytes: 8, compactAt: 0.4, leases: 0 });
    for (const memoryBytes of BUDGETS) {
      const checker = checkerFor({ compactRevision: history.compactRevision, contents: 'history' }, memoryBytes);
      for (const r of history.records) checker.add(r.main, r.sub, r.tombstone, r.kv);
      const { liveKeys, distinctKeys } = checker.finish();
      assert.equal(liveKeys, history.liveKeys, `seed ${seed}, budget ${memoryBytes}`);
      assert.equal(distinctKeys, new Set(history.records.map((r) => r.kv.key.toString())).size, `seed ${seed}, budget ${memoryBytes}`);
    }
  }
});

test('each broken invariant is reported at its revision and key', () => {
  const cases: [string, Step[], RegExp, MvccScope?][] = [
    ['order', [[2, 0, 'a', 1], [2, 0, 'b', 1]], /^revision 2_0, key "b": revisions must strictly increase/],
    ['version skip', [[1, 0, 'a', 1], [2, 0, 'a', 3, 1]], /^revision 2_0, key "a": version 3 follows version 1$/],
    ['create changes', [[1, 0, 'a', 1], [2, 0, 'a', 2, 2]], /^revision 2_0, key "a": create_revision 2 differs from the generation's 1$/],
    ['mod revision', [[1, 0, 'a', 1, 1, 5]], /^revision 1_0, key "a": mod_revision 5 differs from the revision$/],
    ['new key at version 2', [[3, 0, 'a', 2, 1]], /^revision 3_0, key "a": a new generation starts at version 2, not 1$/],
    ['new key with an old create revision', [[3, 0, 'a', 1, 2]], /^revision 3_0, key "a": a new generation has create_revision 2/],
    ['delete of a missing key', [[1, 0, 'a', DEL]], /^revision 1_0, key "a": a tombstone for a key that does not exist$/],
    ['delete twice', [[1, 0, 'a', 1], [2, 0, 'a', DEL], [3, 0, 'a', DEL]], /^revision 3_0, key "a": a tombstone for a key/],
    ['put after delete continues the version', [[1, 0, 'a', 1], [2, 0, 'a', DEL], [3, 0, 'a', 2, 1]], /^revision 3_0, key "a": a new generation starts at version 2/],
    ['two kept revisions', [[1, 0, 'a', 1], [2, 0, 'a', 2, 1]], /^revision 2_0, key "a": a second revision of the key at or below compact revision 5$/, { compactRevision: 5, contents: 'history' }],
    ['kept tombstone', [[1, 0, 'a', 1], [4, 0, 'b', DEL]], /^revision 4_0, key "b": a tombstone at or below compact revision 5/, { compactRevision: 5, contents: 'history' }],
    ['latest with a tombstone', [[1, 0, 'a', 1], [4, 0, 'a', DEL]], /latest-only snapshot holds no tombstones/, { compactRevision: 0, contents: 'latest' }],
    ['latest with a key twice', [[1, 0, 'a', 1], [4, 0, 'a', 2, 1]], /^revision 4_0, key "a": the key appears twice$/, { compactRevision: 0, contents: 'latest' }],
    ['empty key', [[1, 0, '', 1]], /the key is empty/],
  ];
  for (const [name, steps, pattern, scope] of cases) {
    const message = run(steps, scope);
    assert.ok(message !== undefined, `${name}: no violation reported`);
    assert.match(message, pattern, name);
  }
});

test('valid shapes pass: kept revisions at any version, recreation after a delete, transactions', () => {
  const compacted: MvccScope = { compactRevision: 10, contents: 'history' };
  assert.equal(run([[4, 0, 'a', 7, 2], [9, 0, 'b', 1], [11, 0, 'a', 8, 2], [12, 0, 'a', DEL], [12, 1, 'b', 2, 9], [13, 0, 'a', 1]], compacted), undefined);
  assert.equal(run([[1, 0, 'k', 1], [2, 0, 'k', DEL], [3, 0, 'k', 1], [3, 1, 'j', 1], [4, 0, 'k', 2, 3]]), undefined);
  assert.equal(run([[5, 0, 'a', 3, 2], [7, 0, 'b', 1]], { compactRevision: 0, contents: 'latest' }), undefined);
});

test('a reader with checkMvcc reports a well-formed archive whose history is broken', async () => {
  const history = generateHistory(4, { revisions: 200, keys: 20, valueBytes: 8, compactAt: 0, leases: 0 });
  const victim = history.records.find((r) => !r.tombstone && r.kv.version > 1)!;
  victim.kv = { ...victim.kv, version: victim.kv.version + 1 };
  const { bytes } = await writeArchive(history);
  const broken = `MVCC invariant broken at revision ${victim.main}_${victim.sub}, key "${victim.kv.key.toString()}": version \\d+ follows version \\d+$`;
  const reader = await ArchiveReader.open([bytes], { label: 'broken.tar.zst', checkMvcc: true });
  await assert.rejects(reader.finish(), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.match(err.message, new RegExp(`^Cannot read snapshot 'broken.tar.zst': entry records/000000.pb: ${broken}`));
    return true;
  });
  // With the per-key checks in temporary files, the same record is named once they are replayed.
  const spilled = await ArchiveReader.open([bytes], { label: 'broken.tar.zst', checkMvcc: true, mvccMemoryBytes: 1 });
  await assert.rejects(spilled.finish(), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.match(err.message, new RegExp(`^Cannot read snapshot 'broken.tar.zst': ${broken}`));
    return true;
  });
});
