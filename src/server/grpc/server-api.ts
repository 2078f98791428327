import type { Readable } from 'node:stream';
import type {
  AlarmMember,
  AlarmType,
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Member,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  TxnResponse,
} from '../../api/etcd-types.js';
import type { WatchHandle, WatchSink, WatchSubscription } from '../mvcc/watch-hub.js';

/**
 * What the gRPC services need from the server: one method per etcd operation, already
 * routed through the log where etcd routes it. Responses carry no header; the services add
 * `header()` taken after the operation, as etcd does.
 */
export interface EtcdServerApi {
  header(revision?: number): ResponseHeader;

  range(req: RangeRequest): Promise<Omit<RangeResponse, 'header'> & { revision: number }>;
  put(req: PutRequest): Promise<Omit<PutResponse, 'header'> & { revision: number }>;
  deleteRange(req: DeleteRangeRequest): Promise<Omit<DeleteRangeResponse, 'header'> & { revision: number }>;
  txn(req: TxnRequest): Promise<Omit<TxnResponse, 'header'> & { revision: number }>;
  compact(req: CompactionRequest): Promise<{ revision: number }>;

  leaseGrant(id: bigint, ttl: number): Promise<{ id: bigint; ttl: number; revision: number }>;
  leaseRevoke(id: bigint): Promise<{ revision: number }>;
  /** Renews a lease; returns its TTL in seconds. */
  leaseRenew(id: bigint): Promise<number>;
  /** Only the leader's lessor knows the remaining TTL (keep-alives renew there): a follower asks it. */
  leaseTimeToLive(id: bigint, keys: boolean): Promise<{ ttl: number; grantedTtl: number; keys: Buffer[] }>;
  leaseList(): bigint[];

  watch(request: WatchSubscription, sink: WatchSink): WatchHandle;
  /** Current and compacted revisions, for watch bookkeeping. */
  revisions(): { current: number; compacted: number };

  members(): Member[];
  status(): Omit<StatusResponse, 'header'>;
  hashKV(revision: number): { hash: number; compactRevision: number; hashRevision: number };
  hash(): number;
  /**
   * A snapshot archive of one consistent backend read at `revision`: read `output` while
   * `done` settles; `cancel` stops it (the read is released either way).
   */
  snapshotArchive(): { output: Readable; revision: number; done: Promise<unknown>; cancel(reason: Error): void };
  alarm(action: 'GET' | 'ACTIVATE' | 'DEACTIVATE', memberId: bigint, alarm: AlarmType): Promise<AlarmMember[]>;
  defragment(): Promise<void>;
  /** On the leader: hands leadership to a voting member and resolves once it leads. */
  moveLeader(transferee: bigint): Promise<void>;
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
}

export type { WatchHandle, WatchSink, WatchSubscription } from '../mvcc/watch-hub.js';
