import { existsSync, mkdirSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { StrataError, errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { Checkpointer, checkpointWal, type CheckpointMode } from './checkpointer.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';

/** SQLite's default: the fallback when the checkpoint thread has failed. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/**
 * What the SQLite WAL file is cut back to when it starts over after a complete checkpoint.
 * SQLite otherwise keeps the file at its largest ever: a burst of writes, or writes during a
 * long read (a snapshot being streamed) that held checkpoints back, would hold that disk space
 * until the member stops. A second of a busy member's writes stays well below it.
 */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** How stale the size the quota check reads may be. */
const SIZE_REFRESH_MS = 100;

export interface BackendOptions {
  logger: Logger;
  /** Open for reading only: another process may be writing; read transactions see a stable snapshot. */
  readOnly?: boolean;
  /** How often a writable backend's WAL is checkpointed on its own thread (default: every second). */
  checkpointIntervalMs?: number;
  /** What the WAL file is cut back to when it starts over (default: 64 MiB). */
  walSizeLimitBytes?: number;
}

/** Where the backend lives inside a data dir, beside etcd's raft snapshots. */
export function backendPath(dataDir: string): string {
  return join(dataDir, 'member', 'snap', 'db.sqlite');
}

/**
 * The storage engine under MVCC, leases, alarms, members and meta: one SQLite file in WAL
 * mode. The Raft WAL carries durability, so commits are atomic but not fsynced one by one
 * (synchronous=NORMAL); `sync()` makes everything committed so far durable. A writable backend
 * is checkpointed on a thread of its own (Checkpointer), never inside a commit.
 */
export class Backend {
  readonly db: Database.Database;
  readonly readOnly: boolean;
  readonly path: string;
  private readonly logger: Logger;
  private checkpointer: Checkpointer | undefined;
  /** size() as last read, and when: the quota check asks on every write. */
  private knownSize = 0;
  private knownSizeAt = Number.NEGATIVE_INFINITY;

  private constructor(db: Database.Database, path: string, readOnly: boolean, logger: Logger) {
    this.db = db;
    this.path = path;
    this.readOnly = readOnly;
    this.logger = logger;
  }

  static open(path: string, options: BackendOptions): Backend {
    const readOnly = options.readOnly ?? false;
    if (readOnly && !existsSync(path)) {
      throw new StrataError('STRATA_BACKEND_MISSING', `Cannot open backend '${path}': the file does not exist; check --data-dir`);
    }
    if (!readOnly) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let db: Database.Database;
    try {
      db = new Database(path, readOnly ? { readonly: true, fileMustExist: true } : {});
      if (!readOnly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('wal_autocheckpoint = 0');
        db.pragma(`journal_size_limit = ${options.walSizeLimitBytes ?? WAL_SIZE_LIMIT_BYTES}`);
      }
      db.pragma('busy_timeout = 5000');
      db.pragma('cache_size = -65536');
    } catch (err) {
      throw new StrataError('STRATA_BACKEND_OPEN', `Cannot open backend '${path}': ${errorMessage(err)}`, { cause: err });
    }
    const backend = new Backend(db, path, readOnly, options.logger);
    try {
      backend.checkSchema();
    } catch (err) {
      db.close();
      throw err;
    }
    if (!readOnly) {
      const inCommits = (): void => {
        if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      };
      backend.checkpointer = new Checkpointer(path, options.logger, inCommits, options.checkpointIntervalMs);
    }
    return backend;
  }

  private checkSchema(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version === 0 && !this.readOnly) {
      this.transaction(() => {
        this.db.exec(SCHEMA);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      });
      this.logger.info('created backend', { path: this.path, schema: SCHEMA_VERSION });
      return;
    }
    throw new StrataError(
      'STRATA_BACKEND_SCHEMA',
      version === 0
        ? `Cannot open backend '${this.path}': it is empty; start the server on this data dir first`
        : `Cannot open backend '${this.path}': schema version ${version} is not ${SCHEMA_VERSION}; use the strata version that wrote it`,
    );
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE); nested calls join it. */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn).immediate();
  }

  /**
   * Runs `fn` inside one read transaction: every read in it sees the same committed state,
   * even while another connection or process writes.
   */
  readSnapshot<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn).deferred();
  }

  /**
   * Makes everything committed so far durable: checkpoint the SQLite WAL, fsync both files. The
   * fsyncs run off the event loop: at a raft snapshot they flush everything written since the
   * last one, which on a slow disk held a leader's heartbeats back.
   */
  async sync(): Promise<void> {
    if (this.readOnly) return;
    await this.checkpoint('passive');
    for (const file of [this.path, `${this.path}-wal`]) {
      let handle: FileHandle;
      try {
        handle = await open(file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }

  /** Bytes on disk: the database file and its SQLite WAL. */
  size(): number {
    let total = 0;
    for (const file of [this.path, `${this.path}-wal`]) {
      try {
        total += statSync(file).size;
      } catch {
        // the WAL file may not exist (read-only open, after a truncating checkpoint)
      }
    }
    return total;
  }

  /**
   * size() re-read at most every SIZE_REFRESH_MS: two stats per write showed in a busy leader's
   * profile. Between reads the files only grow, so the quota may be passed by what is
   * written meanwhile, as etcd's by what its batch interval holds; a defragment reads it anew.
   */
  recentSize(): number {
    const now = performance.now();
    if (now - this.knownSizeAt >= SIZE_REFRESH_MS) {
      this.knownSize = this.size();
      this.knownSizeAt = now;
    }
    return this.knownSize;
  }

  /** Bytes of pages holding data (what defragmenting would shrink the file to, roughly). */
  sizeInUse(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /**
   * Rewrites the file without free pages (etcd's defragment). VACUUM writes the whole database
   * through the WAL, so the space comes back only once a truncating checkpoint empties it.
   */
  async defragment(): Promise<void> {
    this.db.exec('VACUUM');
    try {
      await this.checkpoint('truncate');
    } finally {
      this.knownSizeAt = Number.NEGATIVE_INFINITY;
    }
  }

  /** On the checkpoint thread while it runs; in place once it has failed. */
  private async checkpoint(mode: CheckpointMode): Promise<void> {
    if (this.checkpointer?.running === true) return this.checkpointer.checkpoint(mode);
    const failure = checkpointWal(this.db, mode);
    if (failure !== undefined) throw new StrataError('STRATA_BACKEND_CHECKPOINT', `Cannot checkpoint backend '${this.path}': ${failure}`);
  }

  /**
   * Closes this connection before the thread's, never beside it: the last connection to close
   * copies the WAL into the database file and removes it, and two closing at once can each
   * still see the other and both leave the WAL behind.
   */
  close(): void {
    if (this.db.open) this.db.close();
    this.checkpointer?.stop();
  }
}
