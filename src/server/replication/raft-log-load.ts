import { MemoryStorage, type ConfState, type Entry, type HardState } from '../../raft/index.js';
import type { Logger } from '../../util/log.js';
import type { WalReplay } from '../wal/index.js';

export interface LoadedRaftLog {
  storage: MemoryStorage;
  /** Where raft resumes delivering committed entries: the WAL's snapshot point. */
  applied: number;
  hardState: HardState;
}

/**
 * Rebuilds the raft log in memory from the WAL: the snapshot marker becomes the storage's
 * snapshot (with `confState`, the membership the backend recorded), the entries above it are
 * appended, and the hard state is restored. Committed entries above the marker are delivered
 * again; the backend skips those at or below its consistent index, while conf changes are
 * re-applied to raft (they are idempotent), which is why the backend's membership is a safe
 * starting configuration.
 */
export async function loadRaftLog(replay: WalReplay, confState: ConfState, logger: Logger): Promise<LoadedRaftLog> {
  const storage = MemoryStorage.withConfState(confState);
  const snapIndex = replay.snapshot?.index ?? 0;
  if (replay.snapshot && snapIndex > 0) {
    storage.applySnapshot({ metadata: { index: snapIndex, term: replay.snapshot.term, confState }, data: new Uint8Array(0) });
  }
  for await (const batch of replay.entries()) storage.append(batch as Entry[]);
  const last = storage.lastIndex();
  const recorded = replay.hardState ?? { term: 0, vote: 0n, commit: 0 };
  // A torn tail can lose entries a hard state written before the tear had counted as committed
  // (one member: committed = durable); raft refuses a commit index past its log.
  const commit = Math.min(Math.max(recorded.commit, snapIndex), last);
  if (commit !== recorded.commit) logger.warn('WAL hard state commit is outside the log; clamped', { recorded: recorded.commit, commit });
  const term = Math.max(recorded.term, storage.term(last));
  const hardState: HardState = { term, vote: term === recorded.term ? recorded.vote : 0n, commit };
  storage.setHardState(hardState);
  return { storage, applied: snapIndex, hardState };
}
