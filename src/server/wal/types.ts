/** The shapes the WAL persists; terms and indexes are safe integers, the vote is a member ID. */

export interface WalEntry {
  term: number;
  index: number;
  /** Raft's entry type (normal, conf change, …); opaque to the WAL. */
  type: number;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

/** A raft snapshot was taken at (term, index): entries up to index are no longer needed. */
export interface SnapshotMarker {
  term: number;
  index: number;
}
