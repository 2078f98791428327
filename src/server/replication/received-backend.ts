import { closeSync, existsSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StrataError, errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { readBackendPosition } from '../backend/backend-copy.js';
import { MetaKey, MetaStore } from '../backend/meta.js';
import { SCHEMA_VERSION } from '../backend/schema.js';
import type { DataDirPaths } from '../datadir/layout.js';
import { formatId } from '../membership/ids.js';
import { fsyncDir } from '../wal/durable-fs.js';
import { Wal } from '../wal/index.js';

/**
 * A backend a leader streamed with a raft snapshot lives beside the current one as
 * `member/snap/%016x.snap.db` (the snapshot index, as etcd names it) from the moment it is
 * complete until it replaces the current backend. That happens only after the WAL holds the
 * snapshot's marker, so after a crash the data dir says what to do: a received backend the
 * WAL's newest marker covers and the current backend has not yet reached is swapped in; any
 * other was never installed, or was overtaken, and is dropped; partial files (`*.db.tmp`) are
 * dropped.
 */
const RECEIVED = /^([0-9a-f]{16})\.snap\.db$/;
const PARTIAL_SUFFIX = '.db.tmp';

export function receivedBackendPath(snapDir: string, index: number): string {
  return join(snapDir, `${index.toString(16).padStart(16, '0')}.snap.db`);
}

/** Where a backend being received (or copied to send) is written first. */
export function partialBackendPath(snapDir: string, what: string): string {
  return join(snapDir, `${what}${PARTIAL_SUFFIX}`);
}

/**
 * Makes a fully received backend ready to swap in: it must be of this cluster and schema; it
 * gets this member's ID (it holds the sender's), is fsynced and renamed to its final name.
 */
export async function sealReceivedBackend(
  partial: string,
  snapDir: string,
  index: number,
  ids: { memberId: bigint; clusterId: bigint },
): Promise<string> {
  const db = new Database(partial, { fileMustExist: true });
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) throw new StrataError('STRATA_SNAPSHOT_RECEIVE', `Cannot install the backend a peer sent: schema version ${version} is not ${SCHEMA_VERSION}; run the same strata version on every member`);
    const meta = new MetaStore(db);
    const cluster = meta.getBigInt(MetaKey.clusterId);
    if (cluster !== ids.clusterId) {
      throw new StrataError('STRATA_SNAPSHOT_RECEIVE', `Cannot install the backend a peer sent: it is of cluster ${cluster === undefined ? 'none' : formatId(cluster)}, not ${formatId(ids.clusterId)}`);
    }
    meta.putBigInt(MetaKey.memberId, ids.memberId);
  } finally {
    db.close();
  }
  const handle = await open(partial, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  const path = receivedBackendPath(snapDir, index);
  await rename(partial, path);
  await fsyncDir(snapDir);
  return path;
}

/**
 * Replaces the (closed) backend at `backendPath` with the one received for snapshot `index`.
 * Synchronous, so no request runs while there is no backend.
 */
export function swapInReceivedBackend(snapDir: string, backendPath: string, index: number): void {
  // The old backend's SQLite WAL and shared-memory index would be read as the new file's.
  for (const stale of [`${backendPath}-wal`, `${backendPath}-shm`]) {
    try {
      unlinkSync(stale);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  renameSync(receivedBackendPath(snapDir, index), backendPath);
  const fd = openSync(snapDir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Drops a received backend that raft did not install (an old or redundant snapshot). */
export async function discardReceivedBackend(snapDir: string, index: number): Promise<void> {
  await unlinkIfPresent(receivedBackendPath(snapDir, index));
}

/** At start, before the backend is opened: finishes or undoes a snapshot install a crash interrupted. */
export async function recoverReceivedBackend(paths: DataDirPaths, logger: Logger): Promise<void> {
  let names: string[];
  try {
    names = await readdir(paths.snap);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  // With the SQLite journal or WAL files that sealing a partial file may leave beside it.
  for (const name of names.filter((n) => n.includes(PARTIAL_SUFFIX))) await unlink(join(paths.snap, name));
  const received = names.flatMap((n) => {
    const match = RECEIVED.exec(n);
    return match ? [parseInt(match[1]!, 16)] : [];
  });
  if (received.length === 0) return;
  let marker = 0;
  try {
    if (await Wal.exists(paths.wal)) marker = (await Wal.read(paths.wal, { logger })).snapshot?.index ?? 0;
  } catch (err) {
    throw new StrataError('STRATA_SNAPSHOT_RECOVER', `Cannot finish installing a received snapshot: the WAL in '${paths.wal}' is unreadable (${errorMessage(err)})`, { cause: err });
  }
  // A snapshot raft ignored can outlive a crash, and the member's own later snapshots move the
  // WAL's marker past it: the backend's own position tells an install cut short from a stale file.
  const applied = existsSync(paths.backend) ? readBackendPosition(paths.backend, logger).index : 0;
  const install = received.filter((index) => index <= marker && index > applied).sort((a, b) => b - a)[0];
  for (const index of received) {
    if (index === install) {
      swapInReceivedBackend(paths.snap, paths.backend, index);
      logger.warn('finished installing a snapshot backend a restart interrupted', { index });
    } else {
      await discardReceivedBackend(paths.snap, index);
      logger.info('dropped a received snapshot backend that was never installed', { index, 'wal-snapshot-index': marker, 'backend-index': applied });
    }
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
