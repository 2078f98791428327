import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, backendPath } from '../../../src/server/backend/backend.js';
import { copyBackendFile } from '../../../src/server/backend/backend-copy.js';
import { MemberStore } from '../../../src/server/backend/members.js';
import { MetaKey, MetaStore } from '../../../src/server/backend/meta.js';
import { silentLogger } from '../../../src/util/log.js';
import { tempDir } from '../../support/index.js';

/** Commits entry `index`: a row and the consistent index in one transaction, as the applier does. */
function commitEntry(backend: Backend, meta: MetaStore, index: number): void {
  backend.transaction(() => {
    backend.db.prepare('INSERT INTO filler (n, pad) VALUES (?, ?)').run(index, 'x'.repeat(2000));
    meta.putNumber(MetaKey.consistentIndex, index);
  });
}

test('a backend copy holds one committed state, says which, and the event loop keeps turning while it is made', async (t) => {
  const dir = tempDir('backend-copy', t);
  const backend = Backend.open(backendPath(dir.path), { logger: silentLogger });
  t.after(() => backend.close());
  backend.db.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, pad TEXT)');
  const meta = new MetaStore(backend.db);
  const members = new MemberStore(backend.db);
  backend.transaction(() => members.put({ id: 0xabcdef0123456789n, name: 'm1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: [], isLearner: false }));
  let index = 0;
  while (index < 5000) commitEntry(backend, meta, ++index);

  // Entries keep being applied while the copy runs: each turn of the event loop applies one.
  let turns = 0;
  let applying = true;
  const applyMore = (): void => {
    if (!applying) return;
    turns++;
    commitEntry(backend, meta, ++index);
    setImmediate(applyMore);
  };
  setImmediate(applyMore);
  const target = `${dir.path}/copy.sqlite`;
  const position = await copyBackendFile(backend.path, target, silentLogger);
  applying = false;

  assert.ok(turns > 0, 'the copy ran on the event loop: nothing else ran until it was done');
  assert.ok(position.index >= 5000 && position.index <= index, `copy at ${position.index}, applied ${index}`);
  assert.deepEqual(
    position.members.map((m) => [m.id, m.name]),
    [[0xabcdef0123456789n, 'm1']],
  );
  const copy = Backend.open(target, { logger: silentLogger, readOnly: true });
  t.after(() => copy.close());
  const rows = copy.db.prepare('SELECT count(*) AS n, max(n) AS last FROM filler').get() as { n: number; last: number };
  assert.deepEqual(rows, { n: position.index, last: position.index }, 'the rows are exactly those of the entries up to the copy position');
});

test('a backend copy that cannot be written fails with one line naming both files', async (t) => {
  const dir = tempDir('backend-copy', t);
  const backend = Backend.open(backendPath(dir.path), { logger: silentLogger });
  t.after(() => backend.close());
  const target = `${dir.path}/no-such-dir/copy.sqlite`;
  await assert.rejects(copyBackendFile(backend.path, target, silentLogger), (err: Error) => {
    assert.match(err.message, /^Cannot copy backend '.*db\.sqlite' to '.*no-such-dir\/copy\.sqlite': /);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
});
