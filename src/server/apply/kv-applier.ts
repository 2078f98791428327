import type Database from 'better-sqlite3';
import { EtcdError } from '../../api/etcd-errors.js';
import type { AlarmMember, AlarmType, RangeRequest } from '../../api/etcd-types.js';
import type { Logger } from '../../util/log.js';
import { Backend, backendPath } from '../backend/backend.js';
import { backendContentHash } from '../backend/content-hash.js';
import { MemberStore } from '../backend/members.js';
import { MetaKey, MetaStore } from '../backend/meta.js';
import { Lessor, minLeaseTtl, type LeaseInfo } from '../lease/lessor.js';
import { Compactor, defaultScheduler, type Scheduler } from '../mvcc/compactor.js';
import { hashKV, type HashKvResult } from '../mvcc/hash-kv.js';
import { keyRangeOf } from '../mvcc/key-range.js';
import { MvccStore } from '../mvcc/kv-store.js';
import { WatchHub, type WatchHandle, type WatchSink, type WatchSubscription } from '../mvcc/watch-hub.js';
import type { Change } from '../mvcc/write-txn.js';
import { AlarmStore } from './alarm-store.js';
import type { ApplyEntry, InternalRequest } from './internal-request.js';
import { applyRange, type RangeResult } from './range.js';
import { applyTxn, isTxnReadOnly, type TxnResult } from './txn.js';
import { applyDeleteRange, applyPut, type DeleteRangeResult, type PutResult } from './write-ops.js';

export interface KvApplierOptions {
  dataDir: string;
  logger: Logger;
  /** Open an existing backend for reading only (a data-dir reader; another process may write). */
  readOnly?: boolean;
  /** Seconds; default etcd's for a 1000 ms election timeout (2). */
  minLeaseTtl?: number;
  /** --quota-backend-bytes; 0 or absent: etcd's default 2 GiB. */
  quotaBackendBytes?: number;
  /** Milliseconds since the epoch, for lease expiry. */
  clock?: () => number;
  /** Revisions per physical-compaction transaction (etcd: 1000). */
  compactionBatchLimit?: number;
  /** Stored revisions per watch catch-up step. */
  watchBatchLimit?: number;
  /** How background steps (compaction, watch catch-up) are deferred; default setImmediate. */
  schedule?: Scheduler;
}

/** The response of an applied entry, by request kind (etcd's response messages without header). */
export type ApplyResponse =
  | { kind: 'put'; put: Omit<PutResult, 'revision'> }
  | { kind: 'deleteRange'; deleteRange: Omit<DeleteRangeResult, 'revision'> }
  | { kind: 'txn'; txn: Omit<TxnResult, 'revision'> }
  | { kind: 'compaction' }
  | { kind: 'leaseGrant'; id: bigint; ttl: number }
  | { kind: 'leaseRevoke' }
  | { kind: 'leaseCheckpoint' }
  | { kind: 'alarm'; alarms: AlarmMember[] };

export interface ApplyResult {
  /** The header revision after this entry. */
  revision: number;
  response?: ApplyResponse;
  /** The request failed as etcd fails it; nothing changed. */
  error?: EtcdError;
  /** Compaction: resolves when the physical deletion is done (await it for `physical: true`). */
  done?: Promise<void>;
  /** The entry was at or below the consistent index (already applied before a restart). */
  skipped?: boolean;
}

export interface LeaseTimeToLive {
  ttl: number;
  grantedTtl: number;
  keys: Buffer[];
}

const DEFAULT_QUOTA = 2 * 1024 * 1024 * 1024;

/**
 * The applied state of the bundled server: MVCC store, leases, alarms, members and meta in one
 * backend. Committed log entries are applied in order, in one backend transaction per batch
 * together with the consistent index, so replaying entries already applied is a no-op. Reads
 * run between batches on the same thread and see only committed batches.
 */
export class KvApplier {
  readonly backend: Backend;
  readonly meta: MetaStore;
  readonly members: MemberStore;
  private readonly store: MvccStore;
  private readonly lessor: Lessor;
  private readonly alarmStore: AlarmStore;
  private readonly compactor: Compactor;
  private readonly watches: WatchHub;
  private readonly quota: number;
  private readonly logger: Logger;
  private readonly savepoint: Record<'begin' | 'release' | 'rollback', Database.Statement>;
  private applied: number;

  private constructor(backend: Backend, options: KvApplierOptions) {
    this.backend = backend;
    this.logger = options.logger;
    const db = backend.db;
    const schedule = options.schedule ?? defaultScheduler;
    this.meta = new MetaStore(db);
    this.members = new MemberStore(db);
    this.store = new MvccStore(db, this.meta);
    this.lessor = new Lessor(db, {
      minTtl: options.minLeaseTtl ?? minLeaseTtl(1000),
      clock: options.clock ?? Date.now,
    });
    this.alarmStore = new AlarmStore(db);
    this.compactor = new Compactor(backend, this.store.tables, this.meta, options.logger, {
      batchLimit: options.compactionBatchLimit ?? 1000,
      schedule,
    });
    this.watches = new WatchHub(this.store, { batchLimit: options.watchBatchLimit ?? 1000, schedule, logger: options.logger });
    this.quota = options.quotaBackendBytes || DEFAULT_QUOTA;
    this.applied = this.meta.getNumber(MetaKey.consistentIndex) ?? 0;
    this.savepoint = { begin: db.prepare('SAVEPOINT entry'), release: db.prepare('RELEASE entry'), rollback: db.prepare('ROLLBACK TO entry') };
  }

  static open(options: KvApplierOptions): KvApplier {
    const backend = Backend.open(backendPath(options.dataDir), {
      logger: options.logger,
      ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
    });
    try {
      const applier = new KvApplier(backend, options);
      applier.resumeCompaction();
      return applier;
    } catch (err) {
      backend.close();
      throw err;
    }
  }

  /** A compaction scheduled but not finished before a stop resumes now. */
  private resumeCompaction(): void {
    if (this.backend.readOnly) return;
    const scheduled = this.store.compactRevision;
    if (scheduled > this.compactor.finishedRevision) {
      this.logger.info('resuming compaction', { revision: scheduled });
      this.compactor.compact(scheduled).catch(() => undefined);
    }
  }

  /** The last applied log index. */
  get consistentIndex(): number {
    return this.applied;
  }

  get currentRevision(): number {
    return this.store.currentRevision;
  }

  /** The latest scheduled compaction (reads below it fail). */
  get compactRevision(): number {
    return this.store.compactRevision;
  }

  // ---- the write path ----

  /**
   * Applies committed entries in order, in one backend transaction, and records the last index
   * as the consistent index. Entries at or below the consistent index are skipped. After the
   * commit, synced watchers get the events of every new revision.
   */
  applyBatch(entries: readonly ApplyEntry[]): ApplyResult[] {
    if (this.backend.readOnly) throw new Error('Cannot apply to a backend opened read-only');
    const results: ApplyResult[] = [];
    const notifications: Array<{ revision: number; changes: Change[] }> = [];
    const compactions: Array<{ result: ApplyResult; revision: number }> = [];
    const before = this.applied;
    try {
      this.backend.transaction(() => {
        for (const entry of entries) {
          if (entry.index <= this.applied) {
            results.push({ revision: this.store.currentRevision, skipped: true });
            continue;
          }
          const result = this.applyOne(entry.request, notifications);
          if (entry.request.kind === 'compaction' && !result.error) {
            compactions.push({ result, revision: Number(entry.request.compaction.revision) });
          }
          results.push(result);
          this.applied = entry.index;
        }
        if (this.applied !== before) {
          this.meta.putNumber(MetaKey.consistentIndex, this.applied);
          if (notifications.length > 0) this.store.saveRevision();
        }
      });
    } catch (err) {
      // The transaction rolled back: bring the in-memory state back to what is committed.
      this.applied = before;
      this.store.reload();
      this.lessor.reload();
      this.alarmStore.reload();
      throw err;
    }
    for (const { result, revision } of compactions) {
      result.done = this.compactor.compact(revision);
      result.done.catch(() => undefined);
    }
    for (const n of notifications) this.watches.notify(n.revision, n.changes);
    return results;
  }

  /**
   * One entry inside a savepoint: an etcd error undoes whatever the entry had written (the
   * in-memory state only changes once an entry's writes are done).
   */
  private applyOne(request: InternalRequest, notifications: Array<{ revision: number; changes: Change[] }>): ApplyResult {
    this.savepoint.begin.run();
    try {
      const result = this.dispatch(request, notifications);
      this.savepoint.release.run();
      return result;
    } catch (err) {
      this.savepoint.rollback.run();
      this.savepoint.release.run();
      if (!(err instanceof EtcdError)) throw err;
      return { revision: this.store.currentRevision, error: err };
    }
  }

  private dispatch(request: InternalRequest, notifications: Array<{ revision: number; changes: Change[] }>): ApplyResult {
    this.refuseWhenAlarmed(request);
    switch (request.kind) {
      case 'put': {
        const lease = BigInt(request.put.lease);
        if (lease !== 0n && !this.lessor.has(lease)) throw new EtcdError('leaseNotFound');
        return this.write(notifications, (txn) => {
          const { revision, ...put } = applyPut(txn, request.put);
          return { revision, response: { kind: 'put', put } };
        });
      }
      case 'deleteRange':
        return this.write(notifications, (txn) => {
          const { revision, ...deleteRange } = applyDeleteRange(txn, request.deleteRange);
          return { revision, response: { kind: 'deleteRange', deleteRange } };
        });
      case 'txn':
        return this.write(notifications, (txn) => {
          const { revision, ...result } = applyTxn(txn, request.txn, {
            leaseExists: (id) => this.lessor.has(id),
            compactRevision: this.store.compactRevision,
          });
          return { revision, response: { kind: 'txn', txn: result } };
        });
      case 'compaction':
        this.store.scheduleCompaction(Number(request.compaction.revision));
        return { revision: this.store.currentRevision, response: { kind: 'compaction' } };
      case 'leaseGrant': {
        const lease = this.lessor.grant(request.id, request.ttl);
        return { revision: this.store.currentRevision, response: { kind: 'leaseGrant', id: lease.id, ttl: lease.ttl } };
      }
      case 'leaseRevoke': {
        if (!this.lessor.has(request.id)) throw new EtcdError('leaseNotFound');
        const result = this.write(notifications, (txn) => {
          // etcd deletes a revoked lease's keys in key order, all in one revision.
          for (const key of this.store.tables.keysWithLease(request.id)) txn.deleteRange(keyRangeOf(key, Buffer.alloc(0)));
          return { revision: 0, response: { kind: 'leaseRevoke' } };
        });
        this.lessor.remove(request.id);
        return { ...result, revision: this.store.currentRevision };
      }
      case 'leaseCheckpoint':
        for (const c of request.checkpoints) this.lessor.checkpoint(c.id, c.remainingTtl);
        return { revision: this.store.currentRevision, response: { kind: 'leaseCheckpoint' } };
      case 'alarm':
        return { revision: this.store.currentRevision, response: { kind: 'alarm', alarms: this.applyAlarm(request) } };
    }
  }

  /** etcd's capped applier under NOSPACE and corrupt applier under CORRUPT. */
  private refuseWhenAlarmed(request: InternalRequest): void {
    const kv = ['put', 'deleteRange', 'txn', 'compaction', 'leaseGrant', 'leaseRevoke'].includes(request.kind);
    if (kv && this.alarmStore.isActive('CORRUPT')) throw new EtcdError('corrupt');
    if (!this.alarmStore.isActive('NOSPACE')) return;
    if (request.kind === 'put' || request.kind === 'leaseGrant') throw new EtcdError('noSpace');
    if (request.kind === 'txn' && !isTxnReadOnly(request.txn)) throw new EtcdError('noSpace');
  }

  private write(
    notifications: Array<{ revision: number; changes: Change[] }>,
    body: (txn: ReturnType<MvccStore['beginWrite']>) => ApplyResult,
  ): ApplyResult {
    const txn = this.store.beginWrite();
    const result = body(txn);
    const revision = this.store.commitWrite(txn);
    if (txn.changes.length > 0) notifications.push({ revision, changes: txn.changes });
    return result;
  }

  private applyAlarm(request: Extract<InternalRequest, { kind: 'alarm' }>): AlarmMember[] {
    switch (request.action) {
      case 'GET':
        return this.alarmStore.get(request.alarm);
      case 'ACTIVATE':
        return [this.alarmStore.activate(request.memberId, request.alarm)];
      case 'DEACTIVATE': {
        const removed = this.alarmStore.deactivate(request.memberId, request.alarm);
        return removed ? [removed] : [];
      }
    }
  }

  // ---- the read path ----

  /** etcd's Range; throws EtcdError compacted / futureRev. */
  range(req: RangeRequest): RangeResult {
    return applyRange(this.store, req);
  }

  hashKV(revision: number): HashKvResult {
    return hashKV(this.store, revision);
  }

  /** CRC-32C over the whole backend content (Maintenance.Hash). */
  hash(): number {
    return this.backend.readSnapshot(() => backendContentHash(this.backend.db));
  }

  watch(subscription: WatchSubscription, sink: WatchSink): WatchHandle {
    return this.watches.watch(subscription, sink);
  }

  // ---- leases (keep-alive and reads are not logged) ----

  leaseRenew(id: bigint): number {
    return this.lessor.renew(id);
  }

  /** etcd answers an unknown lease with TTL -1 at the API; here it throws leaseNotFound. */
  leaseTimeToLive(id: bigint, withKeys: boolean): LeaseTimeToLive {
    const { ttl, grantedTtl } = this.lessor.remainingSeconds(id);
    return { ttl, grantedTtl, keys: withKeys ? this.store.tables.keysWithLease(id) : [] };
  }

  leases(): LeaseInfo[] {
    return this.lessor.list();
  }

  /** Leases whose time is up; the loop proposes a leaseRevoke for each. */
  expiredLeases(nowMs?: number, limit?: number): bigint[] {
    return this.lessor.expired(nowMs, limit);
  }

  /** Extends every lease (a new leader does this so leases do not expire during the handover). */
  promoteLeases(extendMs = 0): void {
    this.lessor.promote(extendMs);
  }

  // ---- alarms and quota ----

  alarms(type: AlarmType = 'NONE'): AlarmMember[] {
    return this.alarmStore.get(type);
  }

  /** Whether a request adding about `extraBytes` fits in --quota-backend-bytes. */
  quotaAvailable(extraBytes: number): boolean {
    return this.backend.recentSize() + extraBytes <= this.quota;
  }

  // ---- maintenance ----

  dbSize(): number {
    return this.backend.size();
  }

  dbSizeInUse(): number {
    return this.backend.sizeInUse();
  }

  defragment(): Promise<void> {
    return this.backend.defragment();
  }

  /** Hands the watches to `next`, an applier over the backend a raft snapshot brought (after close(true)). */
  moveWatchesTo(next: KvApplier): void {
    this.watches.moveWatchersTo(next.watches);
  }

  /** Makes everything applied so far durable (call before dropping WAL segments). */
  sync(): Promise<void> {
    return this.backend.sync();
  }

  /** With `keepWatches` the watches outlive the backend, for moveWatchesTo (closing cancels and forgets them). */
  close(keepWatches = false): void {
    this.compactor.close();
    if (!keepWatches) this.watches.close();
    this.backend.close();
  }
}
