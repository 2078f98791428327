import type { StoredKeyValue } from '../api/mvccpb.js';
import { HashKvHasher } from '../api/revision.js';
import { LastRevisionHashKv } from './last-revision-hash-kv.js';
import type { ArchiveContents } from './manifest.js';
import type { ArchiveHashKv } from './trailer.js';

/**
 * What writer and reader both compute over the record stream: record order, counts and the
 * history hash in constant memory, and, when asked, etcd's HashKV at the snapshot revision,
 * which for a compacted history needs per-key state (LastRevisionHashKv, bounded). The writer
 * puts the results in the trailer; the reader recomputes them and compares.
 */
export interface TallyScope {
  revision: number;
  compactRevision: number;
  contents: ArchiveContents;
}

export interface TallyOptions {
  /** Also compute etcd's HashKV (`hashKV.etcdHash`). */
  etcdHash?: boolean;
  /** What the tally is part of, for errors about temporary files. */
  purpose?: string;
}

export class ContentTally {
  recordCount = 0;
  leaseCount = 0;
  private liveKeys = 0;
  private lastMain = 0;
  private lastSub = -1;
  private readonly hasher = new HashKvHasher();
  /** Only a compacted history needs one: otherwise etcd's HashKV is the history hash. */
  private readonly etcdHasher: LastRevisionHashKv | undefined;
  private result: ArchiveHashKv | null | undefined;

  constructor(
    private readonly scope: TallyScope,
    private readonly options: TallyOptions = {},
  ) {
    if (options.etcdHash === true && scope.contents === 'history' && scope.compactRevision > 0) {
      this.etcdHasher = new LastRevisionHashKv(scope.compactRevision, { purpose: options.purpose });
    }
  }

  /** Throws an Error naming the record when it breaks the order or lies beyond the snapshot. */
  addRecord(main: number, sub: number, tombstone: boolean, kv: StoredKeyValue, kvBytes: Uint8Array): void {
    if (main < this.lastMain || (main === this.lastMain && sub <= this.lastSub)) {
      throw new Error(`record ${main}_${sub} does not follow record ${this.lastMain}_${this.lastSub} (revisions must strictly increase)`);
    }
    if (main < 1 || main > this.scope.revision) {
      throw new Error(`record ${main}_${sub} lies outside revisions 1..${this.scope.revision} of the snapshot`);
    }
    this.lastMain = main;
    this.lastSub = sub;
    this.recordCount++;
    this.hasher.addRecord(main, sub, tombstone, kvBytes);
    this.etcdHasher?.add(main, sub, tombstone, kv, kvBytes);
    // In a HashKV-shaped history each key's generation opens with a version-1 put or with the
    // one revision compaction kept for it, and closes with a tombstone, so the live keys can be
    // counted without remembering any key.
    if (tombstone) this.liveKeys--;
    else if (kv.version === 1 || main <= this.scope.compactRevision || this.scope.contents === 'latest') this.liveKeys++;
  }

  addLease(): void {
    this.leaseCount++;
  }

  /** The main revision of the last record so far (0 before the first). */
  get lastRevision(): number {
    return this.lastMain;
  }

  get keyCount(): number {
    return this.liveKeys;
  }

  /** Call once the records are all in; `etcdHash` is there when it was asked for. */
  hashKV(): ArchiveHashKv | null {
    if (this.result !== undefined) return this.result;
    if (this.scope.contents !== 'history') return (this.result = null);
    const hash = this.hasher.digest();
    const etcdHash = this.etcdHasher !== undefined ? this.etcdHasher.digest(hash) : this.options.etcdHash === true ? hash : undefined;
    this.result = { hash, ...(etcdHash !== undefined ? { etcdHash } : {}), revision: this.scope.revision, compactRevision: this.scope.compactRevision };
    return this.result;
  }

  /** Removes temporary files when the stream stops before hashKV(). */
  close(): void {
    this.etcdHasher?.close();
  }
}
