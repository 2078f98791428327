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

/** Runs the steps; returns the violation's message, or undefined when all pass. */
function run(steps: Step[], scope: MvccScope = { compactRevision: 0, contents: 'history' }): string | undefined {
  const checker = new MvccChecker(scope);
  try {
    for (const [main, sub, key, version, create, mod] of steps) {
      if (version === DEL) checker.add(main, sub, true, kv(key, 0, 0, 0, 0));
      else checker.add(main, sub, false, kv(key, main, version, create ?? main, mod ?? main));
    }
  } catch (err) {
    assert.ok(err instanceof MvccViolation);
    return err.message;
  }
  return undefined;
}

test('a generated history passes, and the live key count matches', () => {
  for (const seed of [1, 2, 3]) {
    const history = generateHistory(seed, { revisions: 3000, keys: 200, valueBytes: 8, compactAt: 0.4, leases: 0 });
    const checker = new MvccChecker({ compactRevision: history.compactRevision, contents: 'history' });
    for (const r of history.records) checker.add(r.main, r.sub, r.tombstone, r.kv);
    assert.equal(checker.finish().liveKeys, history.liveKeys, `seed ${seed}`);
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
  const reader = await ArchiveReader.open([bytes], { label: 'broken.tar.zst', checkMvcc: true });
  await assert.rejects(reader.finish(), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.match(err.message, new RegExp(`^Cannot read snapshot 'broken.tar.zst': entry records/000000.pb: MVCC invariant broken at revision ${victim.main}_${victim.sub}, key "${victim.kv.key.toString()}": version \\d+ follows version \\d+$`));
    return true;
  });
});
