import type {
  AlarmType,
  CompactionRequest,
  DeleteRangeRequest,
  PutRequest,
  TxnRequest,
} from '../../api/etcd-types.js';

/**
 * The decoded payload of one log entry: every request that changes the applied state goes
 * through the log as one of these, so replaying the log rebuilds the state exactly.
 */
export type InternalRequest =
  | { kind: 'put'; put: PutRequest }
  | { kind: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { kind: 'txn'; txn: TxnRequest }
  | { kind: 'compaction'; compaction: CompactionRequest }
  /** `id` is chosen by the proposer and never 0. */
  | { kind: 'leaseGrant'; id: bigint; ttl: number }
  | { kind: 'leaseRevoke'; id: bigint }
  | { kind: 'leaseCheckpoint'; checkpoints: Array<{ id: bigint; remainingTtl: number }> }
  | { kind: 'alarm'; action: AlarmAction; memberId: bigint; alarm: AlarmType };

export type AlarmAction = 'GET' | 'ACTIVATE' | 'DEACTIVATE';

/** A committed log entry ready to apply. */
export interface ApplyEntry {
  index: number;
  request: InternalRequest;
}
