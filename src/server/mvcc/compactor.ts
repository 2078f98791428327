import type { Backend } from '../backend/backend.js';
import { MetaKey, type MetaStore } from '../backend/meta.js';
import type { Logger } from '../../util/log.js';
import type { MvccTables } from './tables.js';

/** Runs a step later, letting other work (applies, reads, I/O) run in between. */
export type Scheduler = (step: () => void) => void;

export const defaultScheduler: Scheduler = (step) => {
  setImmediate(step);
};

export interface CompactorOptions {
  /** Revisions examined per backend transaction (etcd's compaction batch limit is 1000). */
  batchLimit: number;
  schedule: Scheduler;
}

/**
 * Physical compaction (etcd's scheduleCompaction): deletes the revisions at or below the
 * compact revision that etcd's keyIndex.compact would not keep, in bounded batches, each its
 * own transaction; records the finished compact revision at the end. A revision is kept when
 * it is a put and the latest revision of its key at or below the compact revision. The
 * scheduled revision is persisted before any deletion, so a crash half-way resumes on open.
 */
export class Compactor {
  private target = 0;
  private cursor = { main: 0, sub: -1 };
  private running = false;
  private closed = false;
  private waiters: Array<{ rev: number; resolve: () => void; reject: (err: unknown) => void }> = [];

  constructor(
    private readonly backend: Backend,
    private readonly tables: MvccTables,
    private readonly meta: MetaStore,
    private readonly logger: Logger,
    private readonly options: CompactorOptions,
  ) {}

  get finishedRevision(): number {
    return this.meta.getNumber(MetaKey.finishedCompactRevision) ?? 0;
  }

  /**
   * Starts (or widens) physical compaction up to `rev`, whose scheduling is already committed.
   * Resolves when every revision it removes is gone.
   */
  compact(rev: number): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ rev, resolve, reject }));
    if (rev > this.target) {
      // A later compaction removes a superset of what an earlier one removes: restart the scan.
      this.target = rev;
      this.cursor = { main: 0, sub: -1 };
    }
    if (!this.running) {
      this.running = true;
      this.options.schedule(() => this.step());
    }
    return done;
  }

  /** Runs one batch; schedules the next until done. */
  private step(): void {
    if (this.closed) return;
    let more: boolean;
    try {
      more = this.backend.transaction(() => this.deleteBatch());
    } catch (err) {
      this.running = false;
      this.logger.error('compaction failed', { revision: this.target, error: err });
      for (const w of this.waiters.splice(0)) w.reject(err);
      return;
    }
    if (more) {
      this.options.schedule(() => this.step());
      return;
    }
    this.running = false;
    this.logger.info('finished compaction', { revision: this.target });
    const finished = this.target;
    const ready = this.waiters.filter((w) => w.rev <= finished);
    this.waiters = this.waiters.filter((w) => w.rev > finished);
    for (const w of ready) w.resolve();
  }

  private deleteBatch(): boolean {
    const target = this.target;
    const rows = this.tables.revisionsAfter(this.cursor.main, this.cursor.sub, target, this.options.batchLimit);
    for (const row of rows) {
      const kept = !row.tomb && !this.tables.hasRevisionBetween(row.key, row.main, target);
      if (!kept) this.tables.deleteRev(row.main, row.sub);
    }
    const last = rows[rows.length - 1];
    if (last) this.cursor = { main: last.main, sub: last.sub };
    if (rows.length === this.options.batchLimit) return true;
    this.meta.putNumber(MetaKey.finishedCompactRevision, target);
    return false;
  }

  /** Stops between batches; what is left resumes on the next open. */
  close(): void {
    this.closed = true;
  }
}
