import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dataDirPaths, inspectDataDir, prepareDataDir } from '../../../src/server/datadir/layout.js';
import { Wal } from '../../../src/server/wal/wal.js';
import { recordingLogger } from '../wal/helpers.js';
import { tempDir } from '../../support/tmp.js';

test('paths follow etcd: member/wal, member/snap with the backend in it', () => {
  assert.deepEqual(dataDirPaths('/var/lib/strata'), {
    dataDir: '/var/lib/strata',
    member: '/var/lib/strata/member',
    wal: '/var/lib/strata/member/wal',
    snap: '/var/lib/strata/member/snap',
    backend: '/var/lib/strata/member/snap/db.sqlite',
    lockFile: '/var/lib/strata/strata.lock',
  });
});

test('a missing dir is created mode 0700 as new; once it has a WAL it is existing', async (t) => {
  const dir = tempDir('datadir', t).path;
  const dataDir = join(dir, 'data');
  const { paths, state } = await prepareDataDir(dataDir);
  assert.equal(state, 'new');
  for (const path of [dataDir, paths.member, paths.snap]) assert.equal((await stat(path)).mode & 0o777, 0o700, path);
  assert.equal(await inspectDataDir(dataDir), 'new');
  await (await Wal.create(paths.wal, Buffer.from('m'))).close();
  assert.equal((await stat(paths.wal)).mode & 0o777, 0o700);
  assert.equal((await prepareDataDir(dataDir)).state, 'existing');
});

test('foreign data dirs are refused with one line naming what was found', async (t) => {
  const dir = tempDir('datadir', t).path;
  const etcd = join(dir, 'etcd');
  await mkdir(join(etcd, 'member', 'snap'), { recursive: true });
  await writeFile(join(etcd, 'member', 'snap', 'db'), 'bbolt');
  await assert.rejects(prepareDataDir(etcd), {
    code: 'STRATA_DATADIR_FOREIGN',
    message: `Cannot use data dir '${etcd}': it is an etcd data dir (member/snap/db is a bbolt database); restore a snapshot of it with 'strata snapshot restore' or choose another --data-dir`,
  });

  const etcdWal = join(dir, 'etcd-wal');
  await mkdir(join(etcdWal, 'member', 'wal'), { recursive: true });
  await writeFile(join(etcdWal, 'member', 'wal', '0000000000000000-0000000000000000.wal'), Buffer.alloc(64));
  await assert.rejects(prepareDataDir(etcdWal), /member\/wal\/0000000000000000-0000000000000000\.wal is not a strata WAL segment/);

  const orphan = join(dir, 'orphan');
  await mkdir(join(orphan, 'member', 'snap'), { recursive: true });
  await writeFile(join(orphan, 'member', 'snap', 'db.sqlite'), '');
  await assert.rejects(prepareDataDir(orphan), /holds a backend \(member\/snap\/db\.sqlite\) but no WAL/);

  const file = join(dir, 'file');
  await writeFile(file, '');
  await assert.rejects(prepareDataDir(file), { message: `Cannot use data dir '${file}': it is not a directory; choose another --data-dir` });
});

test('loose permissions and unexpected entries are warned about, as etcd does', async (t) => {
  const dir = tempDir('datadir', t).path;
  await writeFile(join(dir, 'notes.txt'), '');
  await chmod(dir, 0o755);
  const logger = recordingLogger();
  assert.equal((await prepareDataDir(dir, logger)).state, 'new');
  const warnings = logger.lines.filter((l) => l.level === 'warn');
  assert.deepEqual(warnings.map((w) => w.fields['mode'] ?? w.fields['entries']), ['755', ['notes.txt']]);
});
