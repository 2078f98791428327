import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { Readable } from 'node:stream';
import type {
  AlarmType,
  CompactionRequest,
  DeleteRangeResponse,
  HashKVResponse,
  PutResponse,
  RangeResponse,
  StatusResponse,
  TxnResponse,
} from '../api/etcd-types.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { TlsOptions } from './connection.js';
import { parseEndpoints } from './endpoints.js';
import { isServiceError } from './errors.js';
import { toBytes } from './keys.js';
import { LeaseKeeper, type LeaseKeeperEvents } from './lease-keepalive.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';
import { Transport, type CallOptions } from './transport.js';
import type {
  AlarmAction,
  AlarmResponse,
  DeleteInput,
  HashResponse,
  HeaderOnly,
  Id64,
  LeaseGrantResponse,
  LeaseLeasesResponse,
  LeaseTimeToLiveResponse,
  MemberAddResponse,
  MemberListResponse,
  PutInput,
  RangeInput,
  TxnInput,
} from './types.js';
import { WatchStream } from './watch.js';

export interface EtcdClientOptions {
  /** `host:port`, `http://host:port` or `https://host:port`; a comma-separated entry is split. */
  readonly endpoints: readonly string[];
  /** TLS material and checks for https:// endpoints (and scheme-less ones when `secure`). */
  readonly tls?: TlsOptions | undefined;
  /** Whether endpoints without a scheme use TLS (default: when `tls` is given). */
  readonly secure?: boolean | undefined;
  /** Time to establish a connection to one endpoint (etcdctl --dial-timeout; default 2 s). */
  readonly dialTimeoutMs?: number | undefined;
  /** Time for a whole request, retries included (etcdctl --command-timeout; default 5 s). */
  readonly requestTimeoutMs?: number | undefined;
  readonly keepaliveTimeMs?: number | undefined;
  readonly keepaliveTimeoutMs?: number | undefined;
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** Source of jitter; tests pass a seeded generator. */
  readonly random?: (() => number) | undefined;
  readonly logger?: Logger | undefined;
  /** The fix named in "Cannot connect" errors (default: check --endpoints and that the server is running). */
  readonly connectHint?: string | undefined;
}

const id = (value: Id64): string => value.toString();

/**
 * An etcd v3 client over the API of src/api (one wire contract with the bundled server):
 * responses are the decoded protobuf messages (snake_case, 64-bit numbers as decimal strings).
 */
export class EtcdClient {
  readonly options: EtcdClientOptions;
  private readonly transport: Transport;

  constructor(options: EtcdClientOptions) {
    this.options = options;
    this.transport = new Transport({
      endpoints: parseEndpoints(options.endpoints),
      tls: options.tls,
      secureByDefault: options.secure ?? options.tls !== undefined,
      dialTimeoutMs: options.dialTimeoutMs ?? 2000,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
      keepaliveTimeMs: options.keepaliveTimeMs ?? 30_000,
      keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? 10_000,
      retry: { ...defaultRetryPolicy, ...options.retry },
      random: options.random ?? Math.random,
      logger: options.logger ?? silentLogger,
      connectHint: options.connectHint ?? 'check --endpoints and that the server is running',
    });
  }

  /** The endpoints as given (normalised), in failover order. */
  get endpoints(): string[] {
    return this.transport.endpoints.map((e) => e.text);
  }

  /** A client bound to one of the endpoints only (no failover), e.g. for per-member status. */
  atEndpoint(endpoint: string): EtcdClient {
    return new EtcdClient({ ...this.options, endpoints: [endpoint] });
  }

  close(): void {
    this.transport.close();
  }

  private call<Res>(service: Parameters<Transport['unary']>[0], method: string, request: unknown, options: CallOptions): Promise<Res> {
    return this.transport.unary<Res>(service, method, request, options);
  }

  // ---- KV ----

  range(input: RangeInput, options: { timeoutMs?: number } = {}): Promise<RangeResponse> {
    const request = { ...input, key: toBytes(input.key), range_end: input.range_end === undefined ? undefined : toBytes(input.range_end) };
    return this.call('KV', 'Range', request, { ...options, idempotent: true });
  }

  put(input: PutInput, options: { timeoutMs?: number } = {}): Promise<PutResponse> {
    const request = {
      ...input,
      key: toBytes(input.key),
      value: input.value === undefined ? undefined : toBytes(input.value),
      lease: input.lease === undefined ? undefined : id(input.lease),
    };
    return this.call('KV', 'Put', request, { ...options, idempotent: false });
  }

  deleteRange(input: DeleteInput, options: { timeoutMs?: number } = {}): Promise<DeleteRangeResponse> {
    const request = { ...input, key: toBytes(input.key), range_end: input.range_end === undefined ? undefined : toBytes(input.range_end) };
    return this.call('KV', 'DeleteRange', request, { ...options, idempotent: false });
  }

  /** A txn; sent again after an ambiguous failure only when it only reads. */
  txn(input: TxnInput, options: { timeoutMs?: number } = {}): Promise<TxnResponse> {
    return this.call('KV', 'Txn', input, { ...options, idempotent: isReadOnlyTxn(input) });
  }

  compact(revision: Id64, physical = false, options: { timeoutMs?: number } = {}): Promise<HeaderOnly> {
    const request: Partial<CompactionRequest> = { revision: id(revision), physical };
    return this.call('KV', 'Compact', request, { ...options, idempotent: true });
  }

  // ---- Lease ----

  leaseGrant(ttlSeconds: number, leaseId: Id64 = '0'): Promise<LeaseGrantResponse> {
    return this.call('Lease', 'LeaseGrant', { TTL: String(ttlSeconds), ID: id(leaseId) }, { idempotent: false });
  }

  leaseRevoke(leaseId: Id64): Promise<HeaderOnly> {
    return this.call('Lease', 'LeaseRevoke', { ID: id(leaseId) }, { idempotent: true });
  }

  leaseTimeToLive(leaseId: Id64, keys = false): Promise<LeaseTimeToLiveResponse> {
    return this.call('Lease', 'LeaseTimeToLive', { ID: id(leaseId), keys }, { idempotent: true });
  }

  leaseLeases(): Promise<LeaseLeasesResponse> {
    return this.call('Lease', 'LeaseLeases', {}, { idempotent: true });
  }

  /**
   * Keeps a lease alive over a KeepAlive stream (renewing at a third of its TTL) and
   * re-opens the stream after a failure, until stop() or the lease expires.
   */
  keepAlive(leaseId: Id64, events: LeaseKeeperEvents = {}): LeaseKeeper {
    return new LeaseKeeper(this.transport, id(leaseId), events);
  }

  // ---- Watch ----

  /** A watch stream that carries many watches and resumes them after reconnecting. */
  watchStream(): WatchStream {
    return new WatchStream(this.transport);
  }

  // ---- Cluster ----

  memberList(): Promise<MemberListResponse> {
    return this.call('Cluster', 'MemberList', {}, { idempotent: true });
  }

  memberAdd(peerURLs: string[], isLearner = false): Promise<MemberAddResponse> {
    return this.call('Cluster', 'MemberAdd', { peerURLs, isLearner }, { idempotent: false });
  }

  memberRemove(memberId: Id64): Promise<MemberListResponse> {
    return this.call('Cluster', 'MemberRemove', { ID: id(memberId) }, { idempotent: false });
  }

  memberUpdate(memberId: Id64, peerURLs: string[]): Promise<MemberListResponse> {
    return this.call('Cluster', 'MemberUpdate', { ID: id(memberId), peerURLs }, { idempotent: true });
  }

  memberPromote(memberId: Id64): Promise<MemberListResponse> {
    return this.call('Cluster', 'MemberPromote', { ID: id(memberId) }, { idempotent: false });
  }

  // ---- Maintenance ----

  status(options: { timeoutMs?: number } = {}): Promise<StatusResponse> {
    return this.call('Maintenance', 'Status', {}, { ...options, idempotent: true });
  }

  hashKV(revision: Id64 = '0', options: { timeoutMs?: number } = {}): Promise<HashKVResponse> {
    return this.call('Maintenance', 'HashKV', { revision: id(revision) }, { ...options, idempotent: true });
  }

  hash(): Promise<HashResponse> {
    return this.call('Maintenance', 'Hash', {}, { idempotent: true });
  }

  alarm(action: AlarmAction = 'GET', memberID: Id64 = '0', alarm: AlarmType = 'NONE'): Promise<AlarmResponse> {
    return this.call('Maintenance', 'Alarm', { action, memberID: id(memberID), alarm }, { idempotent: action === 'GET' });
  }

  defragment(options: { timeoutMs?: number } = {}): Promise<HeaderOnly> {
    return this.call('Maintenance', 'Defragment', {}, { ...options, idempotent: true });
  }

  moveLeader(targetId: Id64): Promise<HeaderOnly> {
    return this.call('Maintenance', 'MoveLeader', { targetID: id(targetId) }, { idempotent: false });
  }

  /**
   * The server's snapshot as a byte stream with backpressure (real etcd sends a bbolt
   * image; the bundled server its archive). Connects with failover; the stream itself is
   * not retried, since a restart would repeat bytes. `onSize` hears the stream's size when the
   * server announces it (etcd counts remaining_bytes down from its database's size).
   */
  async snapshot(options: { onSize?: (bytes: number) => void } = {}): Promise<Readable> {
    const connection = await this.transport.connect(Date.now() + this.transport.settings.requestTimeoutMs);
    const stub = connection.stubs.Maintenance as unknown as {
      Snapshot(request: object, metadata: Metadata): ClientReadableStream<{ blob: Buffer; remaining_bytes?: string }>;
    };
    const call = stub.Snapshot({}, new Metadata());
    const transport = this.transport;
    async function* blobs(): AsyncGenerator<Buffer> {
      try {
        let first = true;
        for await (const message of call as AsyncIterable<{ blob: Buffer; remaining_bytes?: string }>) {
          const remaining = Number(message.remaining_bytes ?? 0);
          if (first && remaining > 0) options.onSize?.(remaining + message.blob.length);
          first = false;
          if (message.blob.length > 0) yield message.blob;
        }
      } catch (err) {
        throw isServiceError(err) ? transport.toError(err, connection, 0) : err;
      }
    }
    const stream = Readable.from(blobs(), { objectMode: false });
    stream.once('close', () => call.cancel());
    return stream;
  }
}

function isReadOnlyTxn(txn: TxnInput): boolean {
  const ops = [...(txn.success ?? []), ...(txn.failure ?? [])];
  return ops.every((op) => ('request_range' in op ? true : 'request_txn' in op ? isReadOnlyTxn(op.request_txn) : false));
}
