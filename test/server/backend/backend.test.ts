import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Backend, backendPath } from '../../../src/server/backend/backend.js';
import { Checkpointer } from '../../../src/server/backend/checkpointer.js';
import { MemberStore } from '../../../src/server/backend/members.js';
import { MetaStore } from '../../../src/server/backend/meta.js';
import { backendContentHash } from '../../../src/server/backend/content-hash.js';
import { StrataError } from '../../../src/util/errors.js';
import { silentLogger } from '../../../src/util/log.js';
import { eventually, tempDir } from '../../support/index.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'strata-backend-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('backend: creates member/snap/db.sqlite in WAL mode; meta values round-trip exactly', async (t) => {
  const dir = tempDir('backend', t).path;
  const path = backendPath(dir);
  assert.equal(path, join(dir, 'member', 'snap', 'db.sqlite'));
  const backend = Backend.open(path, { logger: silentLogger });
  assert.equal(backend.db.pragma('journal_mode', { simple: true }), 'wal');
  const meta = new MetaStore(backend.db);
  backend.transaction(() => {
    meta.putNumber('n', 42);
    meta.putBigInt('id', 0xfedcba9876543210n);
    meta.putString('s', 'hello');
    meta.putBuffer('b', Buffer.from([0, 1, 2]));
  });
  await backend.sync();
  backend.close();
  const again = Backend.open(path, { logger: silentLogger });
  const meta2 = new MetaStore(again.db);
  assert.equal(meta2.getNumber('n'), 42);
  assert.equal(meta2.getBigInt('id'), 0xfedcba9876543210n);
  assert.equal(meta2.getString('s'), 'hello');
  assert.deepEqual(meta2.getBuffer('b'), Buffer.from([0, 1, 2]));
  assert.equal(meta2.getNumber('missing'), undefined);
  assert.ok(again.size() > 0 && again.sizeInUse() > 0);
  again.close();
});

test('backend: members list in unsigned ID order, update in place, remove', () => {
  withDir((dir) => {
    const backend = Backend.open(backendPath(dir), { logger: silentLogger });
    const members = new MemberStore(backend.db);
    const big = 0xf000000000000001n; // above int64: stored as two's complement, read back unsigned
    members.put({ id: big, name: 'b', peerUrls: ['http://127.0.0.1:2380'], clientUrls: [], isLearner: true });
    members.put({ id: 5n, name: 'a', peerUrls: ['http://127.0.0.1:2381'], clientUrls: ['http://127.0.0.1:2379'], isLearner: false });
    members.put({ id: 5n, name: 'a2', peerUrls: ['http://127.0.0.1:2381'], clientUrls: [], isLearner: false });
    assert.deepEqual(
      members.list().map((m) => [m.id, m.name, m.isLearner]),
      [
        [5n, 'a2', false],
        [big, 'b', true],
      ],
    );
    assert.equal(members.remove(5n), true);
    assert.equal(members.remove(5n), false);
    assert.deepEqual(members.list().map((m) => m.id), [big]);
    backend.close();
  });
});

test('backend: a read-only connection keeps a stable snapshot inside a read transaction while a writer commits', () => {
  withDir((dir) => {
    const path = backendPath(dir);
    const writer = Backend.open(path, { logger: silentLogger });
    const meta = new MetaStore(writer.db);
    meta.putNumber('x', 1);
    const reader = Backend.open(path, { logger: silentLogger, readOnly: true });
    const readerMeta = new MetaStore(reader.db);
    reader.readSnapshot(() => {
      assert.equal(readerMeta.getNumber('x'), 1);
      meta.putNumber('x', 2);
      assert.equal(readerMeta.getNumber('x'), 1);
    });
    assert.equal(readerMeta.getNumber('x'), 2);
    assert.throws(() => reader.db.exec("INSERT INTO meta VALUES ('y', 1)"), /readonly/);
    reader.close();
    writer.close();
  });
});

test('backend: a missing file read-only, a foreign schema and an empty file are refused with one clear line', () => {
  withDir((dir) => {
    const path = backendPath(dir);
    assert.throws(() => Backend.open(path, { logger: silentLogger, readOnly: true }), (err: unknown) => {
      assert.ok(err instanceof StrataError);
      assert.match(err.message, /^Cannot open backend '.*db\.sqlite': the file does not exist/);
      return true;
    });
    const backend = Backend.open(path, { logger: silentLogger });
    backend.db.pragma('user_version = 99');
    backend.close();
    assert.throws(() => Backend.open(path, { logger: silentLogger }), /schema version 99 is not 1/);
    const garbage = join(dir, 'other', 'member', 'snap', 'db.sqlite');
    mkdirSync(dirname(garbage), { recursive: true });
    writeFileSync(garbage, 'not a database at all, definitely not sqlite'.repeat(100));
    assert.throws(() => Backend.open(garbage, { logger: silentLogger }), /^.*Cannot open backend .*/);
  });
});

test('backend: the content hash changes with content and not with defragmenting', async (t) => {
  const backend = Backend.open(backendPath(tempDir('backend-hash', t).path), { logger: silentLogger });
  t.after(() => backend.close());
  const meta = new MetaStore(backend.db);
  const empty = backendContentHash(backend.db);
  backend.transaction(() => {
    for (let i = 0; i < 500; i++) meta.putString(`k${i}`, 'x'.repeat(200));
  });
  const full = backendContentHash(backend.db);
  assert.notEqual(full, empty);
  backend.transaction(() => {
    for (let i = 0; i < 400; i++) meta.delete(`k${i}`);
  });
  const before = backendContentHash(backend.db);
  const inUse = backend.sizeInUse();
  await backend.defragment();
  assert.equal(backendContentHash(backend.db), before);
  assert.ok(backend.sizeInUse() <= inUse);
});

/** Writes about `mib` MiB of rows in transactions of 64 KiB, as a busy member's applies would. */
function writeRows(backend: Backend, mib: number): void {
  backend.db.exec('CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body BLOB)');
  const insert = backend.db.prepare('INSERT INTO filler (body) VALUES (?)');
  const body = Buffer.alloc(1024, 7);
  for (let t = 0; t < mib * 16; t++) backend.transaction(() => {
    for (let i = 0; i < 64; i++) insert.run(body);
  });
}

const fileSize = (path: string): number => statSync(path).size;

test('backend: commits never checkpoint the WAL (SQLite would, with two fsyncs, past 1000 pages); sync() does it on the checkpoint thread', async (t) => {
  const path = backendPath(tempDir('backend-checkpoint', t).path);
  const backend = Backend.open(path, { logger: silentLogger, checkpointIntervalMs: 3_600_000 });
  t.after(() => backend.close());
  const before = fileSize(path);
  writeRows(backend, 8);
  assert.equal(fileSize(path), before, 'no commit copied the WAL into the database file');
  assert.ok(fileSize(`${path}-wal`) > 8 * 2 ** 20);
  await backend.sync();
  assert.ok(fileSize(path) > 8 * 2 ** 20, `the database file holds the rows after sync() (${fileSize(path)} bytes)`);
});

test('backend: the checkpoint thread copies the WAL on its own, and ends with the backend', async (t) => {
  const path = backendPath(tempDir('backend-checkpoint', t).path);
  const backend = Backend.open(path, { logger: silentLogger, checkpointIntervalMs: 20 });
  assert.equal(backend.db.pragma('wal_autocheckpoint', { simple: true }), 0, 'only the thread can fill the database file');
  writeRows(backend, 2);
  await eventually(() => fileSize(path) > 2 * 2 ** 20, 'the periodic checkpoint to fill the database file');
  backend.close();
  // The thread's connection is the last to close: SQLite then removes the WAL.
  await eventually(() => !existsSync(`${path}-wal`), 'the checkpoint thread to close its connection');
});

test('backend: a checkpoint thread that cannot start hands checkpointing back and says why', async (t) => {
  const missing = join(tempDir('backend-checkpoint', t).path, 'gone.sqlite');
  let handedBack = 0;
  const checkpointer = new Checkpointer(missing, silentLogger, () => handedBack++);
  await eventually(() => !checkpointer.running, 'the thread to fail');
  assert.equal(handedBack, 1);
  await assert.rejects(checkpointer.checkpoint('passive'), (err: StrataError) => err.code === 'STRATA_BACKEND_CHECKPOINT' && err.message.includes(missing));
});

test('backend: defragment gives the space back, WAL included, while the checkpoint thread is busy checkpointing', async (t) => {
  const path = backendPath(tempDir('backend-defragment', t).path);
  // A periodic checkpoint every millisecond: a truncating one run beside it would come back busy.
  const backend = Backend.open(path, { logger: silentLogger, checkpointIntervalMs: 1 });
  t.after(() => backend.close());
  writeRows(backend, 8);
  backend.db.exec('DELETE FROM filler');
  await backend.sync();
  const before = backend.size();
  await backend.defragment();
  assert.ok(!existsSync(`${path}-wal`) || fileSize(`${path}-wal`) === 0, 'the WAL VACUUM wrote through is emptied');
  assert.ok(backend.size() < before / 8, `the files shrink (${before} -> ${backend.size()} bytes)`);
});

test('backend: the WAL file is cut back to its limit once it starts over, not kept at its largest', async (t) => {
  const path = backendPath(tempDir('backend-wal-limit', t).path);
  const backend = Backend.open(path, { logger: silentLogger, checkpointIntervalMs: 3_600_000, walSizeLimitBytes: 2 ** 20 });
  t.after(() => backend.close());
  writeRows(backend, 8);
  assert.ok(fileSize(`${path}-wal`) > 8 * 2 ** 20);
  await backend.sync();
  writeRows(backend, 0.0625);
  assert.ok(fileSize(`${path}-wal`) <= 2 ** 20, `the WAL file is at most 1 MiB after starting over (${fileSize(`${path}-wal`)} bytes)`);
});

test('backend: a defragment whose WAL a reader holds says so instead of leaving the space taken', async (t) => {
  const path = backendPath(tempDir('backend-defragment', t).path);
  const backend = Backend.open(path, { logger: silentLogger });
  t.after(() => backend.close());
  writeRows(backend, 1);
  const reader = new Database(path, { readonly: true });
  t.after(() => reader.close());
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) FROM filler').get();
  await assert.rejects(backend.defragment(), (err: StrataError) => err.code === 'STRATA_BACKEND_CHECKPOINT' && /Cannot checkpoint backend '.*': another connection kept using the WAL .*try again/.test(err.message));
  reader.exec('COMMIT');
  await backend.defragment();
  assert.ok(!existsSync(`${path}-wal`) || fileSize(`${path}-wal`) === 0);
});
