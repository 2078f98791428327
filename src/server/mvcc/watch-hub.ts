import type { Event } from '../../api/etcd-types.js';
import { decodeKeyValue } from '../../api/mvccpb.js';
import type { Logger } from '../../util/log.js';
import type { Scheduler } from './compactor.js';
import { toApiEvent } from './api-kv.js';
import { inKeyRange, keyRangeOf, type KeyRange } from './key-range.js';
import type { MvccStore } from './kv-store.js';
import type { Change } from './write-txn.js';

export interface WatchSubscription {
  key: Buffer;
  /** The API's range_end: empty for one key, "\0" for every key >= key. */
  rangeEnd: Buffer;
  /** 0: from the next revision. */
  startRevision: number;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
}

export interface WatchSink {
  /**
   * Events of one or more whole revisions, in order; `revision` is the last revision covered.
   * Returning false pauses the watcher (backpressure) until `resume()`.
   */
  events(events: Event[], revision: number): boolean | void;
  /** The next revision to deliver was compacted away; the watch is over. */
  compacted(compactRevision: number): void;
}

export interface WatchHandle {
  cancel(): void;
  /** True while the watcher gets live events (it has caught up and is not paused). */
  readonly synced: boolean;
  /** Stops delivery; the watcher remembers where it was and catches up from history on resume. */
  pause(): void;
  resume(): void;
}

export interface WatchHubOptions {
  /** Stored revisions read per catch-up step (a revision is never split). */
  batchLimit: number;
  schedule: Scheduler;
  logger: Logger;
}

class Watcher implements WatchHandle {
  synced = false;
  paused = false;
  cancelled = false;
  readonly range: KeyRange;

  constructor(
    /** The hub of the store it reads; changes when a snapshot replaces the store. */
    public hub: WatchHub,
    readonly sub: WatchSubscription,
    readonly sink: WatchSink,
    /** The next revision this watcher needs. */
    public nextRev: number,
  ) {
    this.range = keyRangeOf(sub.key, sub.rangeEnd);
  }

  cancel(): void {
    this.hub.remove(this);
  }

  pause(): void {
    this.hub.pause(this);
  }

  resume(): void {
    this.hub.resume(this);
  }

  wants(type: 'PUT' | 'DELETE', key: Buffer): boolean {
    if (type === 'PUT' ? this.sub.noPut : this.sub.noDelete) return false;
    return inKeyRange(this.range, key);
  }
}

/**
 * etcd's watchable store: synced watchers get each committed revision's events as it is
 * applied; unsynced ones (a start revision in the past, or paused by a slow consumer) catch up
 * from the backend in bounded steps and join the synced set once they reach the current
 * revision, with no gap and no duplicate. Everything runs on one thread, so a step never
 * interleaves with an apply.
 */
export class WatchHub {
  private readonly synced = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();
  private stepScheduled = false;
  private closed = false;

  constructor(
    private readonly store: MvccStore,
    private readonly options: WatchHubOptions,
  ) {}

  watch(sub: WatchSubscription, sink: WatchSink): WatchHandle {
    const current = this.store.currentRevision;
    if (sub.startRevision === 0 || sub.startRevision > current) {
      const w = new Watcher(this, sub, sink, Math.max(current + 1, sub.startRevision));
      w.synced = true;
      this.synced.add(w);
      return w;
    }
    const w = new Watcher(this, sub, sink, sub.startRevision);
    this.unsynced.add(w);
    this.scheduleStep();
    return w;
  }

  /** Delivers one committed revision's changes to the synced watchers. */
  notify(revision: number, changes: readonly Change[]): void {
    if (this.synced.size === 0) return;
    const prevCache = new Map<number, ReturnType<typeof decodeKeyValue> | undefined>();
    const prevOf = (i: number, change: Change): ReturnType<typeof decodeKeyValue> | undefined => {
      if (!change.prev) return undefined;
      if (!prevCache.has(i)) {
        const raw = this.store.tables.revKv(change.prev.main, change.prev.sub);
        prevCache.set(i, raw ? decodeKeyValue(raw) : undefined);
      }
      return prevCache.get(i);
    };
    for (const w of [...this.synced]) {
      if (w.nextRev > revision) continue;
      w.nextRev = revision + 1;
      const events: Event[] = [];
      changes.forEach((change, i) => {
        if (w.wants(change.type, change.kv.key)) {
          events.push(toApiEvent(change.type, change.kv, w.sub.prevKv ? prevOf(i, change) : undefined));
        }
      });
      if (events.length > 0) this.deliver(w, events, revision);
    }
  }

  /** Progress for a watcher: the revision up to which it has everything. */
  get currentRevision(): number {
    return this.store.currentRevision;
  }

  remove(w: Watcher): void {
    w.cancelled = true;
    this.synced.delete(w);
    this.unsynced.delete(w);
  }

  pause(w: Watcher): void {
    if (w.cancelled || w.paused) return;
    w.paused = true;
    w.synced = false;
    this.synced.delete(w);
    this.unsynced.add(w);
  }

  resume(w: Watcher): void {
    if (w.cancelled || !w.paused) return;
    w.paused = false;
    this.scheduleStep();
  }

  /**
   * Hands every watcher to `next`, a hub over a store a raft snapshot replaced this one's with.
   * As etcd's restore, they become unsynced there and catch up from the revision each needs next.
   */
  moveWatchersTo(next: WatchHub): void {
    for (const w of [...this.synced, ...this.unsynced]) {
      w.hub = next;
      w.synced = false;
      next.unsynced.add(w);
    }
    this.synced.clear();
    this.unsynced.clear();
    next.scheduleStep();
  }

  close(): void {
    this.closed = true;
    for (const w of [...this.synced, ...this.unsynced]) w.cancelled = true;
    this.synced.clear();
    this.unsynced.clear();
  }

  private deliver(w: Watcher, events: Event[], revision: number): void {
    let accepted: boolean | void;
    try {
      accepted = w.sink.events(events, revision);
    } catch (err) {
      this.options.logger.error('watch consumer failed; cancelling the watch', { error: err });
      this.remove(w);
      return;
    }
    if (accepted === false) this.pause(w);
  }

  private scheduleStep(): void {
    if (this.stepScheduled || this.closed) return;
    this.stepScheduled = true;
    this.options.schedule(() => {
      this.stepScheduled = false;
      if (!this.closed) this.step();
    });
  }

  /** One catch-up batch for every unsynced watcher that is not paused. */
  private step(): void {
    for (const w of [...this.unsynced]) {
      if (!w.paused && !w.cancelled) this.catchUp(w);
    }
    for (const w of this.unsynced) {
      if (!w.paused) {
        this.scheduleStep();
        return;
      }
    }
  }

  private catchUp(w: Watcher): void {
    const compactRev = this.store.compactRevision;
    if (w.nextRev < compactRev) {
      this.remove(w);
      w.sink.compacted(compactRev);
      return;
    }
    const current = this.store.currentRevision;
    if (w.nextRev <= current) {
      const limit = this.options.batchLimit;
      const tables = this.store.tables;
      let rows = tables.revisionsAfter(w.nextRev - 1, Number.MAX_SAFE_INTEGER, current, limit);
      let upTo = current;
      const last = rows[rows.length - 1];
      if (last && rows.length === limit) {
        if (rows[0]!.main === last.main) {
          // One revision bigger than a batch: deliver it whole.
          rows = rows.concat(tables.revisionsAfter(last.main, last.sub, last.main, Number.MAX_SAFE_INTEGER));
          upTo = last.main;
        } else {
          rows = rows.filter((r) => r.main !== last.main);
          upTo = last.main - 1;
        }
      }
      const events: Event[] = [];
      for (const row of rows) {
        const type = row.tomb ? 'DELETE' : 'PUT';
        if (!w.wants(type, row.key)) continue;
        const kv = row.tomb
          ? { key: row.key, value: Buffer.alloc(0), createRevision: 0, modRevision: row.main, version: 0, lease: 0n }
          : decodeKeyValue(row.kv);
        const isCreate = !row.tomb && kv.version === 1;
        const prev = w.sub.prevKv && !isCreate ? this.store.valueAt(row.key, row.main - 1) : undefined;
        events.push(toApiEvent(type, kv, prev));
      }
      w.nextRev = upTo + 1;
      if (events.length > 0) this.deliver(w, events, upTo);
      if (w.cancelled || w.paused) return;
    }
    if (w.nextRev > this.store.currentRevision) {
      this.unsynced.delete(w);
      this.synced.add(w);
      w.synced = true;
    }
  }
}
