import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StrataError } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { fsyncDir } from '../wal/durable-fs.js';
import { SEGMENT_MAGIC } from '../wal/record.js';
import { listSegments } from '../wal/segment-name.js';

/** The data dir as etcd lays it out, plus our backend file and lock file. */
export interface DataDirPaths {
  dataDir: string;
  member: string;
  /** WAL segments. */
  wal: string;
  /** Raft snapshot files and the backend. */
  snap: string;
  backend: string;
  lockFile: string;
}

export function dataDirPaths(dataDir: string): DataDirPaths {
  const member = join(dataDir, 'member');
  return {
    dataDir,
    member,
    wal: join(member, 'wal'),
    snap: join(member, 'snap'),
    backend: join(member, 'snap', 'db.sqlite'),
    lockFile: join(dataDir, 'strata.lock'),
  };
}

/** `new`: nothing of a member yet (the loop bootstraps it); `existing`: a strata member's WAL is there. */
export type DataDirState = 'new' | 'existing';

const KNOWN_ENTRIES = new Set(['member', 'strata.lock']);

function refuse(dataDir: string, why: string, fix = 'choose another --data-dir'): StrataError {
  return new StrataError('STRATA_DATADIR_FOREIGN', `Cannot use data dir '${dataDir}': ${why}; ${fix}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function startsWithMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(SEGMENT_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(SEGMENT_MAGIC);
  } finally {
    await handle.close();
  }
}

/**
 * Tells whether `dataDir` is new or holds a strata member, without changing anything;
 * throws a one-line StrataError for anything else (a file, an etcd data dir, a backend
 * without a WAL). Unexpected entries and loose permissions are only logged, as etcd does.
 */
export async function inspectDataDir(dataDir: string, logger: Logger = silentLogger): Promise<DataDirState> {
  const paths = dataDirPaths(dataDir);
  let entries: string[];
  try {
    const info = await stat(dataDir);
    if (!info.isDirectory()) throw refuse(dataDir, 'it is not a directory');
    if ((info.mode & 0o077) !== 0) {
      logger.warn('data dir permissions are wider than 0700; other users may read the data', {
        dataDir,
        mode: (info.mode & 0o777).toString(8),
      });
    }
    entries = await readdir(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw err;
  }
  const unexpected = entries.filter((name) => !KNOWN_ENTRIES.has(name));
  if (unexpected.length > 0) logger.warn('unexpected entries in the data dir', { dataDir, entries: unexpected });

  if (await exists(join(paths.snap, 'db'))) {
    throw refuse(dataDir, 'it is an etcd data dir (member/snap/db is a bbolt database)', "restore a snapshot of it with 'strata snapshot restore' or choose another --data-dir");
  }
  const segments = (await exists(paths.wal)) ? await listSegments(paths.wal) : [];
  const first = segments[0];
  if (first !== undefined) {
    if (!(await startsWithMagic(join(paths.wal, first.file)))) {
      throw refuse(dataDir, `member/wal/${first.file} is not a strata WAL segment (an etcd WAL?)`, "restore a snapshot of it with 'strata snapshot restore' or choose another --data-dir");
    }
    return 'existing';
  }
  if (await exists(paths.backend)) {
    throw refuse(dataDir, 'it holds a backend (member/snap/db.sqlite) but no WAL', 'restore from a snapshot or move the data dir aside');
  }
  return 'new';
}

/**
 * Checks `dataDir` (see inspectDataDir) and creates what is missing of it, mode 0700 like
 * etcd: the dir, member/ and member/snap/. member/wal/ is made by Wal.create.
 */
export async function prepareDataDir(dataDir: string, logger: Logger = silentLogger): Promise<{ paths: DataDirPaths; state: DataDirState }> {
  const state = await inspectDataDir(dataDir, logger);
  const paths = dataDirPaths(dataDir);
  if (state === 'new') {
    await mkdir(paths.snap, { recursive: true, mode: 0o700 });
    for (const dir of [paths.member, dataDir, dirname(dataDir)]) await fsyncDir(dir);
  }
  return { paths, state };
}
