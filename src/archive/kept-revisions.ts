import type { ByteKeyTable } from '../util/byte-key-table.js';
import { SpillingKeyTable } from '../util/spilling-key-table.js';
import type { SpillSettings } from '../util/temp-files.js';

/** What the per-key work is part of, unless the caller names it. */
export const HASH_KV_PURPOSE = "compute etcd's HashKV";

/**
 * etcd 3.4's treeIndex.Keep(atRev) as HashByRev asks it, over revisions read once in order up
 * to atRev: a put at or below the compact revision stays kept while it is its key's latest
 * revision, that is, until the key is written or deleted again. Each such put gets a number in
 * revision order; its key's entry remembers the number (SpillingKeyTable: bounded memory,
 * temporary files past a few MiB) until the key is written again. Alive keys are counted to
 * know whether Keep is empty (HashByRev then skips nothing): alive at the compact revision, plus
 * creations (version 1) minus tombstones since.
 */
/** Where the per-key table goes past its memory; `purpose` has a default. */
export type KeptRevisionsOptions = SpillSettings;

export interface KeptSet {
  /** Whether Keep(atRev) holds the put numbered `n` by add(). */
  holds(n: number): boolean;
  /** Keys alive at atRev; Keep is empty exactly when this is 0. */
  liveKeys: number;
}

/** What a revision does to its key's kept put. */
const KEEPS = 0;
const DELETES = 1;
const WRITES_AGAIN = 2;
/** Per key: the number of its kept put, or -1 once the key was written again. */
const KEPT = 0;

export class KeptRevisions {
  private readonly keys: SpillingKeyTable;
  private readonly record = new Float64Array(2);
  private puts = 0;
  /** Creations minus tombstones above the compact revision. */
  private liveSinceCompaction = 0;

  constructor(
    private readonly compactRevision: number,
    options: KeptRevisionsOptions = {},
  ) {
    this.keys = new SpillingKeyTable({
      stateFields: 1,
      recordFields: this.record.length,
      apply: applyToKept,
      ...options,
      purpose: options.purpose ?? HASH_KV_PURPOSE,
    });
  }

  /**
   * Takes the next revision (`version` is its key-value's); returns the number of a put at or
   * below the compact revision, else -1.
   */
  add(main: number, tombstone: boolean, key: Buffer, version: number): number {
    const record = this.record;
    let number = -1;
    if (main > this.compactRevision) {
      record[0] = WRITES_AGAIN;
      if (tombstone) this.liveSinceCompaction--;
      else if (version === 1) this.liveSinceCompaction++;
    } else if (tombstone) {
      record[0] = DELETES;
    } else {
      record[0] = KEEPS;
      record[1] = number = this.puts++;
    }
    this.keys.add(key, record);
    return number;
  }

  /** Call after the last revision up to atRev; removes the temporary files. */
  finish(): KeptSet {
    let keysAtCompaction = 0;
    const held = new Uint8Array(Math.ceil(this.puts / 8));
    this.keys.finish((table) => {
      keysAtCompaction += table.size;
      table.forEachLive((entry) => {
        const kept = table.get(entry, KEPT);
        if (kept >= 0) held[kept >>> 3]! |= 1 << (kept & 7);
      });
    });
    return {
      holds: (n) => (held[n >>> 3]! & (1 << (n & 7))) !== 0,
      liveKeys: keysAtCompaction + this.liveSinceCompaction,
    };
  }

  /** Removes temporary files when reading stops before finish(). */
  close(): void {
    this.keys.close();
  }
}

function applyToKept(table: ByteKeyTable, key: Buffer, record: Float64Array): void {
  const action = record[0]!;
  if (action === DELETES) {
    table.delete(key);
    return;
  }
  if (action === KEEPS) {
    table.set(table.findOrAdd(key), KEPT, record[1]!);
    return;
  }
  const entry = table.find(key);
  if (entry >= 0) table.set(entry, KEPT, -1);
}
