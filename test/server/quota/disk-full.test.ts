import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskFullError } from '../../../src/server/quota/disk-full.js';
import { StrataError } from '../../../src/util/errors.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: failed, write`), { code });

test('disk full: ENOSPC, EDQUOT and SQLITE_FULL, also as the cause of a wrapped error, name the data dir and the fix', () => {
  const wrapped = new StrataError('STRATA_WAL_WRITE', "Cannot write the WAL in '/d/member/wal': no space", { cause: errno('ENOSPC') });
  for (const err of [errno('ENOSPC'), errno('EDQUOT'), Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), wrapped]) {
    const full = diskFullError(err, '/d');
    assert.ok(full instanceof StrataError, String(err));
    assert.equal(full.code, 'STRATA_DISK_FULL');
    assert.match(full.message, /^Cannot write to data dir '\/d': its disk is full \((ENOSPC|EDQUOT|SQLITE_FULL)\); free space there and start the server again/);
    assert.equal(full.cause, err);
  }
});

test('disk full: other failures are not taken for a full disk', () => {
  assert.equal(diskFullError(errno('EIO'), '/d'), undefined);
  assert.equal(diskFullError(new Error('boom'), '/d'), undefined);
  assert.equal(diskFullError('ENOSPC', '/d'), undefined);
  assert.equal(diskFullError(undefined, '/d'), undefined);
});

test('disk full: better-sqlite3 reports a full database as SQLITE_FULL', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-sqlite-full-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'db.sqlite'));
  t.after(() => db.close());
  // A page limit stands in for a full disk: SQLite answers both with SQLITE_FULL.
  db.pragma('max_page_count = 8');
  db.exec('CREATE TABLE t (v BLOB)');
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  const err = (() => {
    try {
      for (let i = 0; i < 100; i++) insert.run(Buffer.alloc(4096));
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(diskFullError(err, dir), `got ${String(err)}`);
});
