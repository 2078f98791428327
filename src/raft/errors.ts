/**
 * Errors of the Raft core. src/raft may not import src/util, so these mirror StrataError's
 * shape (a stable `code`, a one-line message) for the server to map or wrap.
 */
export type RaftErrorCode =
  | 'RAFT_COMPACTED'
  | 'RAFT_UNAVAILABLE'
  | 'RAFT_SNAP_OUT_OF_DATE'
  | 'RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE'
  | 'RAFT_PROPOSAL_DROPPED'
  | 'RAFT_STEP_LOCAL_MSG'
  | 'RAFT_STEP_PEER_NOT_FOUND'
  | 'RAFT_INVALID_CONF_CHANGE'
  | 'RAFT_INVALID_CONFIG'
  | 'RAFT_INVARIANT';

export class RaftError extends Error {
  override readonly name = 'RaftError';
  readonly code: RaftErrorCode;

  constructor(code: RaftErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isRaftError(err: unknown, code?: RaftErrorCode): err is RaftError {
  return err instanceof RaftError && (code === undefined || err.code === code);
}

/** The requested index is older than the storage's first index (compacted away). */
export const errCompacted = (): RaftError =>
  new RaftError('RAFT_COMPACTED', 'Requested raft log index is compacted: send or load a snapshot instead');

/** The requested index is beyond what the storage holds. */
export const errUnavailable = (): RaftError =>
  new RaftError('RAFT_UNAVAILABLE', 'Requested raft log entry is unavailable: it is past the last stored index');

export const errSnapOutOfDate = (): RaftError =>
  new RaftError('RAFT_SNAP_OUT_OF_DATE', 'Raft snapshot is older than the one already stored: keep the newer snapshot');

export const errSnapshotTemporarilyUnavailable = (): RaftError =>
  new RaftError('RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE', 'Raft snapshot is temporarily unavailable: retry later');

export const errProposalDropped = (why: string): RaftError =>
  new RaftError('RAFT_PROPOSAL_DROPPED', `Raft proposal dropped: ${why}`);

/** A broken internal invariant: a bug in the caller's use of the core or in the core itself. */
export function invariant(condition: boolean, what: () => string): asserts condition {
  if (!condition) throw new RaftError('RAFT_INVARIANT', `Raft invariant violated: ${what()}`);
}
