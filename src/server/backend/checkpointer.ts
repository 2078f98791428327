import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { StrataError, errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

/**
 * PASSIVE copies what it can without waiting for anyone; TRUNCATE waits (busy_timeout) for
 * writers and readers, copies everything and cuts the WAL file to nothing.
 */
export type CheckpointMode = 'passive' | 'truncate';
export type CheckpointRequest = { kind: 'checkpoint'; mode: CheckpointMode } | { kind: 'stop' };
export type CheckpointReply = { kind: 'done' } | { kind: 'failed'; message: string } | { kind: 'periodic-failed'; message: string };

/**
 * How often the WAL is copied into the database file: about as often as SQLite's own
 * autocheckpoint (1000 pages) ran under a busy member's writes.
 */
const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * Runs one checkpoint on `db`. Returns why a truncating one did not complete (SQLite reports
 * that in the pragma's `busy` column, not as an error), or undefined.
 */
export function checkpointWal(db: Database.Database, mode: CheckpointMode): string | undefined {
  const [result] = db.pragma(`wal_checkpoint(${mode === 'truncate' ? 'TRUNCATE' : 'PASSIVE'})`) as Array<{ busy: number }>;
  if (mode === 'truncate' && result?.busy !== 0) return 'another connection kept using the WAL (SQLITE_BUSY); try again';
  return undefined;
}

/**
 * Checkpoints a backend's SQLite WAL on a worker thread with its own connection. SQLite's
 * autocheckpoint runs inside the commit that crosses 1000 pages, and with synchronous=NORMAL a
 * checkpoint fsyncs the WAL and the database file: on a member under load that held its event
 * loop for 15-20 ms about every two seconds, which every request in flight then waited out.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly waiting: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private stopped = false;
  private failure: StrataError | undefined;

  /** `onFailed` runs once if the thread fails: the backend then checkpoints as SQLite does. */
  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    private readonly onFailed: () => void,
    intervalMs = CHECKPOINT_INTERVAL_MS,
  ) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path, intervalMs } });
    // Until stop(), the thread keeps no process alive (a backend someone forgot to close).
    this.worker.unref();
    this.worker.on('message', (reply: CheckpointReply) => this.onReply(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.stopped) this.fail(new Error(`the checkpoint thread exited with code ${code}`));
    });
  }

  /** False once stopped, or once the thread failed. */
  get running(): boolean {
    return !this.stopped;
  }

  /**
   * Copies everything committed so far into the database file; `truncate` also empties the WAL
   * file. On the thread, it never runs alongside a periodic checkpoint, which would make it busy.
   */
  checkpoint(mode: CheckpointMode): Promise<void> {
    if (this.stopped) return Promise.reject(this.failure ?? new StrataError('STRATA_BACKEND_CLOSED', `Cannot checkpoint backend '${this.path}': it is closed`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage({ kind: 'checkpoint', mode } satisfies CheckpointRequest);
    });
  }

  /**
   * The thread closes its connection and ends. The process waits for that: the last connection
   * to close checkpoints the WAL into the database file and removes it.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.ref();
    this.worker.postMessage({ kind: 'stop' } satisfies CheckpointRequest);
  }

  private onReply(reply: CheckpointReply): void {
    if (reply.kind === 'periodic-failed') {
      this.logger.warn('cannot checkpoint the backend; will retry', { path: this.path, error: reply.message });
      return;
    }
    const next = this.waiting.shift();
    if (reply.kind === 'done') next?.resolve();
    else next?.reject(new StrataError('STRATA_BACKEND_CHECKPOINT', `Cannot checkpoint backend '${this.path}': ${reply.message}`));
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = new StrataError('STRATA_BACKEND_CHECKPOINT', `Cannot checkpoint backend '${this.path}': ${errorMessage(err)}`, { cause: err });
    this.logger.warn('the backend checkpoint thread stopped; checkpointing in commits again', { path: this.path, error: errorMessage(err) });
    this.onFailed();
    for (const { reject } of this.waiting.splice(0)) reject(this.failure);
  }
}
