import type { StoredKeyValue } from '../api/mvccpb.js';
import { HashKvHasher } from '../api/revision.js';
import type { ArchiveContents } from './manifest.js';
import type { ArchiveHashKv } from './trailer.js';

/**
 * What writer and reader both compute over the record stream in constant memory: record order,
 * counts and etcd's HashKV. The writer puts the results in the trailer; the reader recomputes
 * them and compares.
 */
export interface TallyScope {
  revision: number;
  compactRevision: number;
  contents: ArchiveContents;
}

export class ContentTally {
  recordCount = 0;
  leaseCount = 0;
  private liveKeys = 0;
  private lastMain = 0;
  private lastSub = -1;
  private readonly hasher = new HashKvHasher();

  constructor(private readonly scope: TallyScope) {}

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

  hashKV(): ArchiveHashKv | null {
    if (this.scope.contents !== 'history') return null;
    return { hash: this.hasher.digest(), revision: this.scope.revision, compactRevision: this.scope.compactRevision };
  }
}
