import type {
  AlarmMember,
  AlarmType,
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
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
  leaseTimeToLive(id: bigint, keys: boolean): { ttl: number; grantedTtl: number; keys: Buffer[] };
  leaseList(): bigint[];

  watch(request: WatchSubscription, sink: WatchSink): WatchHandle;
  /** Current and compacted revisions, for watch bookkeeping. */
  revisions(): { current: number; compacted: number };

  members(): Member[];
  status(): Omit<StatusResponse, 'header'>;
  hashKV(revision: number): { hash: number; compactRevision: number; hashRevision: number };
  hash(): number;
  alarm(action: 'GET' | 'ACTIVATE' | 'DEACTIVATE', memberId: bigint, alarm: AlarmType): Promise<AlarmMember[]>;
  defragment(): Promise<void>;
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
}

export interface WatchSubscription {
  key: Buffer;
  rangeEnd: Buffer;
  /** 0: from the next revision. */
  startRevision: number;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
}

export interface WatchSink {
  /** Events of one or more revisions, in revision order; `revision` is the last one covered. */
  events(events: Event[], revision: number): void;
  /** The start revision was compacted away; the watch is over. */
  compacted(compactRevision: number): void;
}

export interface WatchHandle {
  cancel(): void;
  /** True once the watcher has caught up with the store (it gets live events). */
  readonly synced: boolean;
}
