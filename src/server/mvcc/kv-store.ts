import { EtcdError } from '../../api/etcd-errors.js';
import { decodeKeyValue, type StoredKeyValue } from '../../api/mvccpb.js';
import { MetaKey, type MetaStore } from '../backend/meta.js';
import type { KeyRange } from './key-range.js';
import { MvccTables } from './tables.js';
import { WriteTxn } from './write-txn.js';
import type Database from 'better-sqlite3';

export interface RangeKeysOptions {
  /** 0 or less: the reading revision. */
  revision?: number;
  /** 0 or less: no limit. */
  limit?: number;
  countOnly?: boolean;
}

export interface RangeKeysResult {
  kvs: StoredKeyValue[];
  /** Keys in the range at the revision, before any limit. */
  count: number;
  /** The revision the read was made at (etcd's header revision). */
  revision: number;
}

/**
 * The multi-version key-value store (etcd's mvcc store): revisions, reads at any revision
 * since the compact revision, write transactions. Current and compact revision are kept in
 * memory and persisted in meta by the transactions that change them.
 */
export class MvccStore {
  readonly tables: MvccTables;
  private current: number;
  private compactMain: number;

  constructor(
    db: Database.Database,
    private readonly meta: MetaStore,
  ) {
    this.tables = new MvccTables(db);
    this.current = 0;
    this.compactMain = 0;
    this.reload();
  }

  get currentRevision(): number {
    return this.current;
  }

  /** etcd's compactMainRev: the latest compaction scheduled (physical deletion may still run). */
  get compactRevision(): number {
    return this.compactMain;
  }

  /**
   * etcd's rangeKeys: the keys of `range` alive at `options.revision` as of a reader whose
   * latest revision is `readRevision`.
   */
  range(range: KeyRange, options: RangeKeysOptions = {}, readRevision = this.current): RangeKeysResult {
    let rev = options.revision ?? 0;
    if (rev > readRevision) throw new EtcdError('futureRev');
    if (rev <= 0) rev = readRevision;
    if (rev < this.compactMain) throw new EtcdError('compacted');
    const latest = rev === readRevision;
    const count = latest ? this.tables.liveCount(range) : this.tables.historyCount(range, rev);
    if (count === 0 || options.countOnly) return { kvs: [], count, revision: readRevision };
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : -1;
    const raw = latest ? this.tables.liveKvs(range, limit) : this.tables.historyKvs(range, rev, limit);
    return { kvs: raw.map((kv) => decodeKeyValue(kv)), count, revision: readRevision };
  }

  /** The value of `key` at `rev`, or undefined when it did not exist or `rev` is compacted. */
  valueAt(key: Buffer, rev: number): StoredKeyValue | undefined {
    if (rev < this.compactMain || rev <= 0) return undefined;
    const row = this.tables.keyAt(key, rev);
    return row && !row.tomb ? decodeKeyValue(row.kv) : undefined;
  }

  /** Opens the write transaction of the next revision; end it with `commitWrite`. */
  beginWrite(): WriteTxn {
    return new WriteTxn(this.tables, this.current, (txn, range, options) => this.range(range, options, txn.readRevision));
  }

  /**
   * Ends a write transaction: a txn that changed something takes the next revision. The caller
   * persists the revision with `saveRevision` before its backend transaction commits.
   */
  commitWrite(txn: WriteTxn): number {
    if (txn.changes.length > 0) this.current = txn.beginRevision + 1;
    return this.current;
  }

  saveRevision(): void {
    this.meta.putNumber(MetaKey.currentRevision, this.current);
  }

  /**
   * Records a compaction: etcd's updateCompactRev. Throws compacted at or below the current
   * compact revision and futureRev above the current revision.
   */
  scheduleCompaction(rev: number): void {
    if (rev <= this.compactMain) throw new EtcdError('compacted');
    if (rev > this.current) throw new EtcdError('futureRev');
    this.compactMain = rev;
    this.meta.putNumber(MetaKey.scheduledCompactRevision, rev);
  }

  /** Re-reads the revisions after a rolled-back transaction. */
  reload(): void {
    // etcd's store starts at revision 1 with compact revision -1 (never compacted).
    this.current = this.meta.getNumber(MetaKey.currentRevision) ?? Math.max(1, this.tables.maxMain());
    this.compactMain = this.meta.getNumber(MetaKey.scheduledCompactRevision) ?? -1;
  }
}
