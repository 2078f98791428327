import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { StrataError } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { fsyncDir, writeFully } from '../wal/durable-fs.js';
import { dataDirPaths } from './layout.js';
import { currentProcess, processState, type ProcessIdentity } from './process-identity.js';

/**
 * An exclusive lock on a data dir. Node has no flock, so two mechanisms work together:
 * - a guard: an abstract Unix socket named after the dir's device and inode (Linux). Binding
 *   it is exclusive and the kernel releases it when the holder dies, even by kill -9, so no
 *   stale state can exist and two starters can never both decide a lock is stale;
 * - the lock file `<data-dir>/strata.lock`, created atomically (link of a complete temp
 *   file), naming the holder (pid, start time, boot ID, host): it gives the refusal its pid,
 *   and covers holders the guard cannot see (another network namespace). A lock file whose
 *   holder is gone is taken over with a warning.
 */
export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file (if still ours) and drops the guard; safe to call twice. */
  release(): Promise<void>;
}

interface LockRecord extends ProcessIdentity {
  nonce: string;
  createdAt: string;
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (typeof value.pid !== 'number' || typeof value.nonce !== 'string') return undefined;
    return value as LockRecord;
  } catch {
    return undefined;
  }
}

async function readRecord(path: string): Promise<LockRecord | undefined> {
  try {
    return parseRecord(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function inUse(dataDir: string, holder: LockRecord | undefined, lockFile: string, local: boolean): StrataError {
  const who = holder === undefined ? 'another strata server' : `strata server pid ${holder.pid}`;
  const message = local
    ? `Cannot use data dir '${dataDir}': it is in use by ${who}; stop that server or choose another --data-dir`
    : `Cannot use data dir '${dataDir}': it is locked by ${who} on host ${holder?.hostname ?? '?'}; stop that server, or remove '${lockFile}' if it no longer runs`;
  return new StrataError('STRATA_DATADIR_LOCKED', message);
}

/** Binds the guard socket: `held` when another holder has it, undefined when the platform offers none. */
async function bindGuard(dataDir: string, logger: Logger): Promise<Server | 'held' | undefined> {
  if (process.platform !== 'linux') return undefined;
  const { dev, ino } = await stat(dataDir);
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') return resolve('held');
      logger.warn('data dir lock: no kernel guard, relying on the lock file alone', { dataDir, error: err });
      resolve(undefined);
    });
    server.listen({ path: `\0strata-datadir-${dev}-${ino}` }, () => {
      server.unref();
      resolve(server);
    });
  });
}

async function writeTemp(path: string, record: LockRecord): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await writeFully(handle, Buffer.from(`${JSON.stringify(record)}\n`), 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Takes the lock on `dataDir` (created with mode 0700 if missing), or throws STRATA_DATADIR_LOCKED. */
export async function lockDataDir(dataDir: string, options: { logger?: Logger } = {}): Promise<DataDirLock> {
  const logger = options.logger ?? silentLogger;
  const { lockFile } = dataDirPaths(dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const guard = await bindGuard(dataDir, logger);
  if (guard === 'held') throw inUse(dataDir, await readRecord(lockFile), lockFile, true);
  const closeGuard = (): Promise<void> => new Promise((resolve) => (guard === undefined ? resolve() : guard.close(() => resolve())));

  const record: LockRecord = { ...(await currentProcess()), nonce: randomBytes(8).toString('hex'), createdAt: new Date().toISOString() };
  const temp = `${lockFile}.${record.pid}.${record.nonce}.tmp`;
  try {
    await writeTemp(temp, record);
    try {
      await link(temp, lockFile);
      await unlink(temp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readRecord(lockFile);
      const state = holder === undefined ? 'dead' : await processState(holder);
      if (state !== 'dead') throw inUse(dataDir, holder, lockFile, state === 'alive');
      await rename(temp, lockFile);
      logger.warn('took over a stale data dir lock left by a process that is gone', {
        dataDir,
        stalePid: holder?.pid,
        staleSince: holder?.createdAt,
      });
    }
    await fsyncDir(dataDir);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    await closeGuard();
    throw err;
  }

  let released = false;
  return {
    path: lockFile,
    release: async () => {
      if (released) return;
      released = true;
      if ((await readRecord(lockFile))?.nonce === record.nonce) {
        await unlink(lockFile);
        await fsyncDir(dataDir);
      }
      await closeGuard();
    },
  };
}
