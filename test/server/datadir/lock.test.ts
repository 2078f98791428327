import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { lockDataDir } from '../../../src/server/datadir/lock.js';
import { currentProcess } from '../../../src/server/datadir/process-identity.js';
import { recordingLogger } from '../wal/helpers.js';
import { tempDir } from '../../support/tmp.js';

const holderScript = fileURLToPath(new URL('./lock-holder.js', import.meta.url));

interface Holder {
  child: ChildProcessByStdio<Writable, Readable, null>;
  /** The first line the child printed. */
  first: Promise<string>;
  exited: Promise<unknown[]>;
  lines: AsyncIterableIterator<string>;
}

function startHolder(dataDir: string): Holder {
  const child = spawn(process.execPath, [holderScript, dataDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = lines.next().then((r) => (r.done === true ? '' : r.value));
  return { child, first, exited, lines };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

test('a second process is refused with the holder pid; after the holder releases, the lock is free', async (t) => {
  const dir = tempDir('lock', t).path;
  const holder = startHolder(dir);
  const locked = await holder.first;
  assert.equal(locked, `locked ${holder.child.pid}`);

  const second = startHolder(dir);
  assert.equal(
    await second.first,
    `refused Cannot use data dir '${dir}': it is in use by strata server pid ${holder.child.pid}; stop that server or choose another --data-dir`,
  );
  await second.exited;
  assert.equal(second.child.exitCode, 1);
  await assert.rejects(lockDataDir(dir), { code: 'STRATA_DATADIR_LOCKED', message: new RegExp(`pid ${holder.child.pid};`) });

  holder.child.stdin.end();
  assert.equal((await holder.lines.next()).value, 'released');
  await holder.exited;
  assert.equal(await exists(`${dir}/strata.lock`), false, 'release removes the lock file');

  const logger = recordingLogger();
  const lock = await lockDataDir(dir, { logger });
  assert.deepEqual(logger.lines.filter((l) => l.level === 'warn'), []);
  await lock.release();
  await lock.release();
});

test('a lock left by a kill -9ed holder is taken over with a warning', async (t) => {
  const dir = tempDir('lock', t).path;
  const holder = startHolder(dir);
  assert.equal(await holder.first, `locked ${holder.child.pid}`);
  holder.child.kill('SIGKILL');
  await holder.exited;
  const stale = JSON.parse(await readFile(`${dir}/strata.lock`, 'utf8')) as { pid: number };
  assert.equal(stale.pid, holder.child.pid, 'the dead holder left its lock file');

  const logger = recordingLogger();
  const lock = await lockDataDir(dir, { logger });
  const warning = logger.lines.find((l) => l.level === 'warn');
  assert.equal(warning?.msg, 'took over a stale data dir lock left by a process that is gone');
  assert.equal(warning.fields['stalePid'], holder.child.pid);
  const mine = JSON.parse(await readFile(lock.path, 'utf8')) as { pid: number };
  assert.equal(mine.pid, process.pid);
  await lock.release();
});

test('a lock file naming a reused pid is stale; one from another host is refused; one process cannot lock twice', async (t) => {
  const dir = tempDir('lock', t).path;
  const me = await currentProcess();
  const lockFile = `${dir}/strata.lock`;
  // Our own pid, but another start time: the pid was reused by this process.
  await writeFile(lockFile, JSON.stringify({ ...me, startTime: '1', nonce: 'old', createdAt: 'then' }));
  const logger = recordingLogger();
  const lock = await lockDataDir(dir, { logger });
  assert.ok(logger.lines.some((l) => l.level === 'warn' && l.fields['stalePid'] === process.pid));
  await assert.rejects(lockDataDir(dir), {
    message: `Cannot use data dir '${dir}': it is in use by strata server pid ${process.pid}; stop that server or choose another --data-dir`,
  });
  await lock.release();

  await writeFile(lockFile, JSON.stringify({ ...me, pid: 4242, hostname: `not-${hostname()}`, nonce: 'x', createdAt: 'then' }));
  await assert.rejects(lockDataDir(dir), {
    code: 'STRATA_DATADIR_LOCKED',
    message: `Cannot use data dir '${dir}': it is locked by strata server pid 4242 on host not-${hostname()}; stop that server, or remove '${lockFile}' if it no longer runs`,
  });
});
