/**
 * The Storage interface the core reads its stable log through, and MemoryStorage, an
 * in-memory implementation (tests, simulations, and a server's cache in front of its WAL).
 *
 * Errors are thrown: errCompacted() for an index below firstIndex(), errUnavailable() for
 * one past lastIndex(), errSnapshotTemporarilyUnavailable() while a snapshot is being made.
 */
import { errCompacted, errSnapOutOfDate, errUnavailable, invariant } from './errors.js';
import {
  emptyHardState,
  emptySnapshot,
  limitSize,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from './types.js';

export interface Storage {
  /** The persisted hard state and the configuration as of the last snapshot. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most maxSize bytes, but at least one entry if any is in range. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** The term of entry i; i may be firstIndex()-1 (the term of the snapshot). */
  term(i: number): number;
  lastIndex(): number;
  /** The index of the first entry still available (older ones are in the snapshot). */
  firstIndex(): number;
  snapshot(): Snapshot;
}

export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState;
  private snap: Snapshot = emptySnapshot;
  // ents[0] is a dummy holding the index and term of the snapshot; real entries follow.
  private ents: Entry[] = [dummy(0, 0)];

  /** A storage whose (index 0) snapshot names the initial configuration, like a freshly bootstrapped disk. */
  static withConfState(confState: ConfState): MemoryStorage {
    const ms = new MemoryStorage();
    ms.snap = { metadata: { index: 0, term: 0, confState }, data: emptySnapshot.data };
    return ms;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw errCompacted();
    invariant(hi <= this.lastIndex() + 1, () => `entries hi ${hi} is out of bound (last index ${this.lastIndex()})`);
    if (this.ents.length === 1) throw errUnavailable();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw errCompacted();
    const e = this.ents[i - offset];
    if (e === undefined) throw errUnavailable();
    return e.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot (one received from a leader). */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw errSnapOutOfDate();
    this.snap = snap;
    this.ents = [dummy(snap.metadata.index, snap.metadata.term)];
  }

  /**
   * Records a snapshot of the state machine at applied index i (≤ lastIndex) so that
   * compact() may drop the entries it covers; confState is the configuration at i.
   */
  createSnapshot(i: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw errSnapOutOfDate();
    const offset = this.ents[0]!.index;
    invariant(i <= this.lastIndex(), () => `snapshot index ${i} is past the last index ${this.lastIndex()}`);
    this.snap = {
      metadata: { index: i, term: this.ents[i - offset]!.term, confState: confState ?? this.snap.metadata.confState },
      data,
    };
    return this.snap;
  }

  /** Drops every entry before compactIndex; the caller keeps entries a lagging follower may still need. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw errCompacted();
    invariant(compactIndex <= this.lastIndex(), () => `compact ${compactIndex} is past the last index ${this.lastIndex()}`);
    const i = compactIndex - offset;
    const head = this.ents[i]!;
    this.ents = [dummy(head.index, head.term), ...this.ents.slice(i + 1)];
  }

  /** Appends entries, replacing any stored suffix they conflict with; they must follow on from the log. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all already compacted
    const fresh = first > entries[0]!.index ? entries.slice(first - entries[0]!.index) : entries;
    const offset = fresh[0]!.index - this.ents[0]!.index;
    invariant(offset <= this.ents.length, () => `missing log entry [last: ${this.lastIndex()}, append at: ${fresh[0]!.index}]`);
    this.ents.length = offset;
    for (const e of fresh) this.ents.push(e);
  }
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: 0, data: emptySnapshot.data };
}
