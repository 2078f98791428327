import { encodeKeyValue, type StoredKeyValue } from '../../api/mvccpb.js';
import type { Revision } from '../../api/revision.js';
import type { KeyRange } from './key-range.js';
import type { RangeKeysOptions, RangeKeysResult } from './kv-store.js';
import type { MvccTables } from './tables.js';

/**
 * One change of a write transaction, in sub-revision order. A DELETE's kv carries only the
 * key and the deleting revision, as etcd's delete events do.
 */
export interface Change {
  type: 'PUT' | 'DELETE';
  kv: StoredKeyValue;
  /** The revision this change superseded (the key's previous value), if the key existed. */
  prev: Revision | undefined;
}

type RangeFn = (txn: WriteTxn, range: KeyRange, options: RangeKeysOptions) => RangeKeysResult;

/**
 * etcd's storeTxnWrite: every change gets main = beginRevision + 1 and the next sub; reads
 * inside the transaction see its earlier writes.
 */
export class WriteTxn {
  readonly changes: Change[] = [];

  constructor(
    private readonly tables: MvccTables,
    readonly beginRevision: number,
    private readonly rangeFn: RangeFn,
  ) {}

  /** The revision reads in this transaction are made at. */
  get readRevision(): number {
    return this.changes.length > 0 ? this.beginRevision + 1 : this.beginRevision;
  }

  range(range: KeyRange, options: RangeKeysOptions = {}): RangeKeysResult {
    return this.rangeFn(this, range, options);
  }

  /** Puts a key; returns the revision of the write. */
  put(key: Buffer, value: Buffer, lease: bigint): number {
    const main = this.beginRevision + 1;
    const sub = this.changes.length;
    const live = this.tables.getLive(key);
    const kv: StoredKeyValue = {
      key,
      value,
      createRevision: live ? live.createRevision : main,
      modRevision: main,
      version: live ? live.version + 1 : 1,
      lease,
    };
    this.tables.insertRev(main, sub, false, key, encodeKeyValue(kv));
    this.tables.putLive(key, { main, sub, createRevision: kv.createRevision, version: kv.version, lease });
    this.changes.push({ type: 'PUT', kv, prev: live ? { main: live.main, sub: live.sub } : undefined });
    return main;
  }

  /** Deletes the keys of a range in key order; returns how many. */
  deleteRange(range: KeyRange): number {
    const keys = this.tables.liveKeys(range);
    for (const key of keys) this.delete(key);
    return keys.length;
  }

  /** The revision a DeleteRange reports: the txn's revision once it changed anything. */
  deleteRangeRevision(deleted: number): number {
    return deleted !== 0 || this.changes.length > 0 ? this.beginRevision + 1 : this.beginRevision;
  }

  private delete(key: Buffer): void {
    const main = this.beginRevision + 1;
    const sub = this.changes.length;
    const live = this.tables.getLive(key);
    const tombstone: StoredKeyValue = { key, value: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0, lease: 0n };
    this.tables.insertRev(main, sub, true, key, encodeKeyValue(tombstone));
    this.tables.deleteLive(key);
    this.changes.push({
      type: 'DELETE',
      kv: { ...tombstone, modRevision: main },
      prev: live ? { main: live.main, sub: live.sub } : undefined,
    });
  }
}
