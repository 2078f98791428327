import type { StoredKeyValue } from '../api/mvccpb.js';
import { ByteKeyTable } from '../util/byte-key-table.js';
import type { ArchiveContents } from './manifest.js';

/**
 * The MVCC invariants of a record stream in revision order, checked record by record:
 * revisions strictly increase; a put's mod_revision is its main revision; within a key's
 * generation the version goes up by one and create_revision stays that of the version-1 put;
 * a tombstone closes a live generation and the next put starts again at version 1. At or below
 * the compact revision a `history` stream holds only the one put compaction keeps per key.
 * Memory: one entry per distinct key, about 70 bytes plus the key (ByteKeyTable); everything
 * else is constant.
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

export class MvccChecker {
  private readonly keys = new ByteKeyTable(2);
  private lastMain = 0;
  private lastSub = -1;
  private live = 0;

  constructor(private readonly scope: MvccScope) {}

  /** Throws MvccViolation at the first record that breaks an invariant. */
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
    const keys = this.keys;
    const entry = keys.find(kv.key);
    const version = entry < 0 ? 0 : keys.get(entry, VERSION);
    const kept = this.scope.contents === 'latest' || main <= this.scope.compactRevision;

    if (tombstone) {
      if (this.scope.contents === 'latest') fail('a latest-only snapshot holds no tombstones');
      if (main <= this.scope.compactRevision) fail(`a tombstone at or below compact revision ${this.scope.compactRevision} (compaction removes them)`);
      if (version === 0) fail('a tombstone for a key that does not exist');
      keys.set(entry, VERSION, 0);
      this.live--;
      return;
    }

    if (kv.modRevision !== main) fail(`mod_revision ${kv.modRevision} differs from the revision`);
    if (kept) {
      if (entry >= 0) {
        fail(this.scope.contents === 'latest' ? 'the key appears twice' : `a second revision of the key at or below compact revision ${this.scope.compactRevision}`);
      }
      if (kv.version < 1) fail(`version ${kv.version} is below 1`);
      if (kv.createRevision < 1 || kv.createRevision > main) fail(`create_revision ${kv.createRevision} is not in 1..${main}`);
      if (kv.version === 1 && kv.createRevision !== main) fail(`version 1 but create_revision ${kv.createRevision}`);
      this.setState(keys.add(kv.key), kv.createRevision, kv.version);
      this.live++;
      return;
    }

    if (version === 0) {
      if (kv.version !== 1) fail(`a new generation starts at version ${kv.version}, not 1`);
      if (kv.createRevision !== main) fail(`a new generation has create_revision ${kv.createRevision}, not its own revision`);
      this.setState(entry >= 0 ? entry : keys.add(kv.key), main, 1);
      this.live++;
      return;
    }
    if (kv.version !== version + 1) fail(`version ${kv.version} follows version ${version}`);
    if (kv.createRevision !== keys.get(entry, CREATE_REVISION)) {
      fail(`create_revision ${kv.createRevision} differs from the generation's ${keys.get(entry, CREATE_REVISION)}`);
    }
    keys.set(entry, VERSION, kv.version);
  }

  private setState(entry: number, createRevision: number, version: number): void {
    this.keys.set(entry, CREATE_REVISION, createRevision);
    this.keys.set(entry, VERSION, version);
  }

  /** Call after the last record. */
  finish(): { liveKeys: number; distinctKeys: number } {
    return { liveKeys: this.live, distinctKeys: this.keys.size };
  }
}
