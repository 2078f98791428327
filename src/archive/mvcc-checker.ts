import type { StoredKeyValue } from '../api/mvccpb.js';
import type { ByteKeyTable } from '../util/byte-key-table.js';
import { SpillingKeyTable } from '../util/spilling-key-table.js';
import type { SpillSettings } from '../util/temp-files.js';
import type { ArchiveContents } from './manifest.js';

/**
 * The MVCC invariants of a record stream in revision order, checked record by record:
 * revisions strictly increase; a put's mod_revision is its main revision; within a key's
 * generation the version goes up by one and create_revision stays that of the version-1 put;
 * a tombstone closes a live generation and the next put starts again at version 1. At or below
 * the compact revision a `history` stream holds only the one put compaction keeps per key.
 * Memory: one entry per distinct key, about 70 bytes plus the key, up to a bound past which the
 * per-key checks go through temporary files (SpillingKeyTable); everything else is constant.
 */
export interface MvccScope {
  compactRevision: number;
  contents: ArchiveContents;
}

/** The first broken invariant; the message starts with the revision and the key. */
export class MvccViolation extends Error {
  override readonly name = 'MvccViolation';
  constructor(
    readonly main: number,
    readonly sub: number,
    readonly key: Buffer,
    readonly detail: string,
  ) {
    super(`revision ${main}_${sub}, key ${JSON.stringify(key.toString('utf8'))}: ${detail}`);
  }
}

/** Per key: the generation's create revision, and its version (0 once a tombstone closed it). */
const CREATE_REVISION = 0;
const VERSION = 1;
/** Per record, what the per-key checks read. */
const R_MAIN = 0;
const R_SUB = 1;
const R_TOMBSTONE = 2;
const R_VERSION = 3;
const R_CREATE_REVISION = 4;

/** Where the per-key table goes past its memory (SpillingKeyTable); `purpose` has a default. */
export type MvccCheckerOptions = SpillSettings;

export class MvccChecker {
  private readonly keys: SpillingKeyTable;
  private readonly record = new Float64Array(5);
  private lastMain = 0;
  private lastSub = -1;

  constructor(
    private readonly scope: MvccScope,
    options: MvccCheckerOptions = {},
  ) {
    this.keys = new SpillingKeyTable({
      stateFields: 2,
      recordFields: this.record.length,
      apply: (table, key, record) => this.applyToKey(table, key, record),
      ...options,
      purpose: options.purpose ?? 'check the MVCC invariants',
    });
  }

  /**
   * Throws MvccViolation at the first record that breaks an invariant; once the keys no longer
   * fit in memory, a broken per-key invariant is found by finish() instead.
   */
  add(main: number, sub: number, tombstone: boolean, kv: StoredKeyValue): void {
    const fail = (detail: string): never => {
      throw new MvccViolation(main, sub, kv.key, detail);
    };
    if (main < this.lastMain || (main === this.lastMain && sub <= this.lastSub)) {
      fail(`revisions must strictly increase, but ${this.lastMain}_${this.lastSub} came before`);
    }
    this.lastMain = main;
    this.lastSub = sub;
    if (kv.key.length === 0) fail('the key is empty');
    if (tombstone) {
      if (this.scope.contents === 'latest') fail('a latest-only snapshot holds no tombstones');
      if (main <= this.scope.compactRevision) fail(`a tombstone at or below compact revision ${this.scope.compactRevision} (compaction removes them)`);
    } else if (kv.modRevision !== main) {
      fail(`mod_revision ${kv.modRevision} differs from the revision`);
    }
    const record = this.record;
    record[R_MAIN] = main;
    record[R_SUB] = sub;
    record[R_TOMBSTONE] = tombstone ? 1 : 0;
    record[R_VERSION] = kv.version;
    record[R_CREATE_REVISION] = kv.createRevision;
    this.keys.add(kv.key, record);
  }

  /** The invariants that need the key's generation so far. */
  private applyToKey(keys: ByteKeyTable, key: Buffer, record: Float64Array): void {
    const main = record[R_MAIN]!;
    const fail = (detail: string): never => {
      throw new MvccViolation(main, record[R_SUB]!, Buffer.from(key), detail);
    };
    const entry = keys.find(key);
    const version = entry < 0 ? 0 : keys.get(entry, VERSION);
    if (record[R_TOMBSTONE] === 1) {
      if (version === 0) fail('a tombstone for a key that does not exist');
      keys.set(entry, VERSION, 0);
      return;
    }
    const putVersion = record[R_VERSION]!;
    const createRevision = record[R_CREATE_REVISION]!;
    if (this.scope.contents === 'latest' || main <= this.scope.compactRevision) {
      if (entry >= 0) {
        fail(this.scope.contents === 'latest' ? 'the key appears twice' : `a second revision of the key at or below compact revision ${this.scope.compactRevision}`);
      }
      if (putVersion < 1) fail(`version ${putVersion} is below 1`);
      if (createRevision < 1 || createRevision > main) fail(`create_revision ${createRevision} is not in 1..${main}`);
      if (putVersion === 1 && createRevision !== main) fail(`version 1 but create_revision ${createRevision}`);
      this.setState(keys, keys.add(key), createRevision, putVersion);
      return;
    }

    if (version === 0) {
      if (putVersion !== 1) fail(`a new generation starts at version ${putVersion}, not 1`);
      if (createRevision !== main) fail(`a new generation has create_revision ${createRevision}, not its own revision`);
      this.setState(keys, entry >= 0 ? entry : keys.add(key), main, 1);
      return;
    }
    if (putVersion !== version + 1) fail(`version ${putVersion} follows version ${version}`);
    if (createRevision !== keys.get(entry, CREATE_REVISION)) {
      fail(`create_revision ${createRevision} differs from the generation's ${keys.get(entry, CREATE_REVISION)}`);
    }
    keys.set(entry, VERSION, putVersion);
  }

  private setState(keys: ByteKeyTable, entry: number, createRevision: number, version: number): void {
    keys.set(entry, CREATE_REVISION, createRevision);
    keys.set(entry, VERSION, version);
  }

  /**
   * Call after the last record: runs the per-key checks that went to disk, if any. The live keys
   * are counted from the final states, not as records go: a replay can be abandoned and run again.
   */
  finish(): { liveKeys: number; distinctKeys: number } {
    let distinctKeys = 0;
    let liveKeys = 0;
    this.keys.finish((table) => {
      distinctKeys += table.size;
      table.forEachLive((entry) => {
        if (table.get(entry, VERSION) > 0) liveKeys++;
      });
    });
    return { liveKeys, distinctKeys };
  }

  /** Removes temporary files when reading stops before finish(). */
  close(): void {
    this.keys.close();
  }
}
