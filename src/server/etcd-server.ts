import type { Server as HttpServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../api/etcd-proto.js';
import { EtcdError } from '../api/etcd-errors.js';
import type {
  AlarmMember,
  AlarmType,
  CompactionRequest,
  DeleteRangeRequest,
  Member,
  PutRequest,
  RangeRequest,
  ResponseHeader,
  TxnRequest,
} from '../api/etcd-types.js';
import { UsageError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { InternalRequest } from './apply/internal-request.js';
import { KvApplier, type ApplyResult } from './apply/kv-applier.js';
import type { ServerConfig } from './config/server-config.js';
import { lockDataDir, type DataDirLock } from './datadir/lock.js';
import { prepareDataDir } from './datadir/layout.js';
import { MetaKey } from './backend/meta.js';
import { clusterService } from './grpc/cluster-service.js';
import { kvService } from './grpc/kv-service.js';
import { leaseService } from './grpc/lease-service.js';
import { bindUrl, createGrpcServer, readPemFile, serverCredentials } from './grpc/listen.js';
import { authService, maintenanceService } from './grpc/maintenance-service.js';
import type { EtcdServerApi, WatchHandle, WatchSink, WatchSubscription } from './grpc/server-api.js';
import { watchService } from './grpc/watch-service.js';
import { computeClusterId, computeMemberId, formatId } from './membership/ids.js';
import { startHttpEndpoint } from './metrics/http-endpoint.js';
import { MetricsRegistry, diskSecondsBuckets } from './metrics/registry.js';
import { decodeLogEntry, encodeLogEntry } from './replication/log-entry.js';
import { RequestIdGenerator } from './replication/request-id.js';
import { SingleMemberLog } from './replication/single-member-log.js';
import { Wal, type WalEntry, type WalReplay } from './wal/index.js';

/** The etcd API version the bundled server implements, reported by Status and /version. */
export const ETCD_API_VERSION = '3.4.0';

const LEASE_CHECK_INTERVAL_MS = 500;
const WATCH_PROGRESS_INTERVAL_MS = 10 * 60 * 1000;

interface Waiter {
  resolve: (result: ApplyResult) => void;
  reject: (err: unknown) => void;
}

export interface StartedServer {
  server: EtcdServer;
  /** The client addresses actually bound (port 0 resolved), in --listen-client-urls order. */
  clientUrls: string[];
  metricsUrls: string[];
}

/**
 * The bundled etcd-compatible server, one member: every write is proposed as a log entry,
 * persisted in the WAL, then applied to the backend together with its index; reads are
 * served from the applied state. The Raft issue replaces SingleMemberLog with a Raft node
 * driving the same persist → apply loop.
 */
export class EtcdServer implements EtcdServerApi {
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  private readonly waiters = new Map<bigint, Waiter>();
  private readonly revoking = new Set<bigint>();
  private readonly timers: NodeJS.Timeout[] = [];
  private grpcServer: grpc.Server | undefined;
  private httpServers: HttpServer[] = [];
  private log!: SingleMemberLog;
  private fatal: unknown;
  private snapshotting = false;
  private lastSnapshotIndex = 0;
  /** The last log index applied, counting entries that carry no request (a new term's empty entry). */
  private appliedIndex = 0;
  private stopped = false;
  private readonly metrics = new MetricsRegistry();
  private readonly proposalsCommitted = this.metrics.counter('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.');
  private readonly proposalsApplied = this.metrics.counter('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.');
  private readonly proposalsFailed = this.metrics.counter('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.');
  private readonly applyDuration = this.metrics.histogram('etcd_disk_backend_commit_duration_seconds', 'The latency distributions of commit called by backend.', diskSecondsBuckets);

  private constructor(
    readonly config: ServerConfig,
    private readonly logger: Logger,
    readonly memberId: bigint,
    readonly clusterId: bigint,
    private readonly applier: KvApplier,
    private readonly wal: Wal,
    private readonly lock: DataDirLock,
    private readonly ids: RequestIdGenerator,
  ) {
    this.maxRequestBytes = config.maxRequestBytes;
    this.maxTxnOps = config.maxTxnOps;
    this.metrics.gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => 1);
    this.metrics.gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => 1);
    this.metrics.gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => this.waiters.size);
    this.metrics.gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => this.applier.dbSize());
    this.metrics.gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.', () => this.applier.dbSizeInUse());
    this.metrics.gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => this.applier.currentRevision);
    this.metrics.gauge('strata_wal_fsyncs_total', 'WAL fdatasync calls (one covers a whole group commit).', () => this.wal.stats.syncs);
    this.metrics.gauge('strata_wal_appends_total', 'WAL appends.', () => this.wal.stats.appends);
    this.metrics.gauge('etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.', () => config.quotaBackendBytes);
  }

  /** Opens (or creates) the data dir, replays the WAL, and starts serving. */
  static async start(config: ServerConfig, logger: Logger): Promise<StartedServer> {
    if (config.initialCluster.size > 1) {
      throw new UsageError(
        `--initial-cluster lists ${config.initialCluster.size} members, but this build of strata server runs single-member clusters only; give --initial-cluster ${config.name}=<peer URL>`,
      );
    }
    const lock = await lockDataDir(config.dataDir, { logger });
    let applier: KvApplier | undefined;
    let wal: Wal | undefined;
    try {
      const { paths } = await prepareDataDir(config.dataDir, logger);
      applier = KvApplier.open({
        dataDir: config.dataDir,
        logger,
        minLeaseTtl: minLeaseTtl(config),
        quotaBackendBytes: config.quotaBackendBytes,
      });
      const { memberId, clusterId } = bootstrapMembership(applier, config, logger);
      let replay: WalReplay | undefined;
      if (await Wal.exists(paths.wal)) {
        ({ wal, replay } = await Wal.open(paths.wal, { logger }));
      } else {
        wal = await Wal.create(paths.wal, encodeWalMetadata(memberId, clusterId), { logger });
      }
      const server = new EtcdServer(config, logger, memberId, clusterId, applier, wal, lock, new RequestIdGenerator(memberId, Date.now()));
      const { term, lastIndex } = replay ? await server.replay(replay) : { term: 0, lastIndex: 0 };
      server.log = new SingleMemberLog(wal, {
        memberId,
        term,
        lastIndex,
        onCommitted: (entries) => server.applyCommitted(entries),
        onFatal: (err) => server.onFatal(err),
      });
      server.lastSnapshotIndex = server.appliedIndex;
      const bound = await server.serve();
      server.startTimers();
      logger.info('serving client traffic', {
        name: config.name,
        'member-id': formatId(memberId),
        'cluster-id': formatId(clusterId),
        'client-urls': bound.clientUrls,
        'data-dir': config.dataDir,
      });
      return { server, ...bound };
    } catch (err) {
      applier?.close();
      await wal?.close();
      await lock.release();
      throw err;
    }
  }

  private async replay(replay: WalReplay): Promise<{ term: number; lastIndex: number }> {
    let term = Math.max(replay.hardState?.term ?? 0, replay.snapshot?.term ?? 0);
    let replayed = 0;
    for await (const batch of replay.entries()) {
      const pending = batch.filter((entry) => entry.index > this.applier.consistentIndex);
      this.applyEntries(pending);
      replayed += pending.length;
      for (const entry of batch) term = Math.max(term, entry.term);
    }
    const lastIndex = replay.lastIndex;
    this.appliedIndex = Math.max(this.applier.consistentIndex, lastIndex);
    if (replayed > 0) this.logger.info('replayed the WAL into the backend', { entries: replayed, 'applied-index': this.applier.consistentIndex });
    return { term, lastIndex };
  }

  private async serve(): Promise<{ clientUrls: string[]; metricsUrls: string[] }> {
    const services = etcdServices();
    const grpcServer = createGrpcServer(this.config.maxRequestBytes);
    this.grpcServer = grpcServer;
    grpcServer.addService(services.KV.service, kvService(this, this.logger));
    grpcServer.addService(services.Watch.service, watchService(this, this.logger, { progressIntervalMs: WATCH_PROGRESS_INTERVAL_MS }));
    grpcServer.addService(services.Lease.service, leaseService(this, this.logger));
    grpcServer.addService(services.Cluster.service, clusterService(this, this.logger));
    grpcServer.addService(services.Maintenance.service, maintenanceService(this, this.logger));
    grpcServer.addService(services.Auth.service, authService(this.logger));

    const clientUrls: string[] = [];
    for (const url of this.config.listenClientUrls) {
      const credentials = serverCredentials(url.protocol === 'https:' ? this.config.clientTls : undefined, '');
      const port = await bindUrl(grpcServer, url, credentials, '--listen-client-urls');
      clientUrls.push(`${url.protocol}//${url.hostname}:${port}`);
    }
    const metricsUrls: string[] = [];
    for (const url of this.config.listenMetricsUrls) {
      const tls = this.config.clientTls;
      const http = await startHttpEndpoint(url, {
        registry: this.metrics,
        health: () => this.health(),
        version: () => ({ etcdserver: ETCD_API_VERSION, etcdcluster: '3.4.0' }),
        ...(url.protocol === 'https:' && tls
          ? {
              tls: {
                cert: readPemFile(tls.certFile, '--cert-file'),
                key: readPemFile(tls.keyFile, '--key-file'),
                ...(tls.trustedCaFile ? { ca: readPemFile(tls.trustedCaFile, '--trusted-ca-file') } : {}),
                requestCert: tls.clientCertAuth,
              },
            }
          : {}),
      });
      this.httpServers.push(http);
      const address = http.address();
      const port = typeof address === 'object' && address ? address.port : Number(url.port);
      metricsUrls.push(`${url.protocol}//${url.hostname}:${port}`);
    }
    return { clientUrls, metricsUrls };
  }

  private startTimers(): void {
    const leaseTimer = setInterval(() => this.revokeExpiredLeases(), LEASE_CHECK_INTERVAL_MS);
    this.timers.push(leaseTimer);
    const compaction = this.config.autoCompaction;
    if (compaction) this.timers.push(...startAutoCompaction(this, compaction, this.logger));
  }

  /** Stops serving, waits for in-flight work, and releases the data dir. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await new Promise<void>((resolve) => {
      if (!this.grpcServer) return resolve();
      this.grpcServer.tryShutdown(() => resolve());
      // Streams (watch, keep-alive) never end by themselves: cut them after a grace period.
      setTimeout(() => this.grpcServer?.forceShutdown(), 1000).unref();
    });
    await Promise.all(this.httpServers.map((s) => new Promise((resolve) => s.close(resolve))));
    for (const waiter of this.waiters.values()) waiter.reject(new EtcdError('stopped'));
    this.waiters.clear();
    await this.wal.close();
    this.applier.close();
    await this.lock.release();
    this.logger.info('stopped');
  }

  // ---- the write path ----------------------------------------------------------------

  private propose(request: InternalRequest): Promise<ApplyResult> {
    if (this.stopped) return Promise.reject(new EtcdError('stopped'));
    if (this.fatal !== undefined) return Promise.reject(new EtcdError('stopped'));
    const requestId = this.ids.next();
    const data = encodeLogEntry(requestId, request);
    if (data.length > this.config.maxRequestBytes) return Promise.reject(new EtcdError('requestTooLarge'));
    return new Promise<ApplyResult>((resolve, reject) => {
      this.waiters.set(requestId, { resolve, reject });
      try {
        this.log.propose(data);
      } catch (err) {
        this.waiters.delete(requestId);
        reject(err);
      }
    }).then(async (result) => {
      if (result.error) {
        this.proposalsFailed.inc();
        throw result.error;
      }
      if (result.done) await result.done;
      return result;
    });
  }

  private applyCommitted(entries: WalEntry[]): void {
    this.proposalsCommitted.inc({}, entries.length);
    const started = performance.now();
    this.applyEntries(entries);
    this.applyDuration.observe((performance.now() - started) / 1000);
    this.maybeSnapshot();
  }

  private applyEntries(entries: WalEntry[]): void {
    const last = entries.at(-1);
    if (last) this.appliedIndex = Math.max(this.appliedIndex, last.index);
    const decoded: Array<{ index: number; request: InternalRequest; requestId: bigint }> = [];
    for (const entry of entries) {
      if (entry.data.length === 0) continue;
      const { requestId, request } = decodeLogEntry(entry.data);
      decoded.push({ index: entry.index, request, requestId });
    }
    if (decoded.length === 0) return;
    const results = this.applier.applyBatch(decoded);
    this.proposalsApplied.inc({}, decoded.length);
    decoded.forEach((entry, i) => {
      const waiter = this.waiters.get(entry.requestId);
      if (!waiter) return;
      this.waiters.delete(entry.requestId);
      waiter.resolve(results[i]!);
    });
  }

  private onFatal(err: unknown): void {
    this.fatal = err;
    this.logger.error('cannot write the WAL; no more writes are accepted', { error: errorMessage(err) });
    for (const waiter of this.waiters.values()) waiter.reject(new EtcdError('stopped'));
    this.waiters.clear();
  }

  /** After --snapshot-count entries: make the backend durable and drop the WAL before it. */
  private maybeSnapshot(): void {
    const applied = this.appliedIndex;
    if (this.snapshotting || applied - this.lastSnapshotIndex < this.config.snapshotCount) return;
    this.snapshotting = true;
    const term = this.log.term;
    (async () => {
      this.applier.sync();
      await this.wal.saveSnapshotMarker(term, applied);
      await this.wal.releaseTo(applied);
      this.lastSnapshotIndex = applied;
      this.logger.info('snapshot taken; released older WAL segments', { index: applied, term });
    })()
      .catch((err: unknown) => this.logger.warn('snapshot failed; will retry', { error: errorMessage(err) }))
      .finally(() => {
        this.snapshotting = false;
      });
  }

  private revokeExpiredLeases(): void {
    for (const id of this.applier.expiredLeases(Date.now())) {
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.propose({ kind: 'leaseRevoke', id })
        .catch((err: unknown) => {
          if (!(err instanceof EtcdError && err.etcdName === 'leaseNotFound')) {
            this.logger.warn('revoking an expired lease failed', { lease: formatId(id), error: errorMessage(err) });
          }
        })
        .finally(() => this.revoking.delete(id));
    }
  }

  private checkQuota(bytes: number): void {
    if (this.applier.quotaAvailable(bytes)) return;
    if (!this.applier.alarms().some((a) => a.alarm === 'NOSPACE')) {
      this.logger.warn('backend quota exceeded; raising the NOSPACE alarm', { quota: this.config.quotaBackendBytes });
      this.propose({ kind: 'alarm', action: 'ACTIVATE', memberId: this.memberId, alarm: 'NOSPACE' }).catch(() => undefined);
    }
    throw new EtcdError('noSpace');
  }

  // ---- EtcdServerApi --------------------------------------------------------------------

  header(revision?: number): ResponseHeader {
    return {
      cluster_id: this.clusterId.toString(),
      member_id: this.memberId.toString(),
      revision: String(revision ?? this.applier.currentRevision),
      raft_term: String(this.log.term),
    };
  }

  async range(req: RangeRequest) {
    return this.applier.range(req);
  }

  async put(req: PutRequest) {
    this.checkQuota(req.key.length + req.value.length);
    const result = await this.propose({ kind: 'put', put: req });
    return { ...responseOf(result, 'put').put, revision: result.revision };
  }

  async deleteRange(req: DeleteRangeRequest) {
    const result = await this.propose({ kind: 'deleteRange', deleteRange: req });
    return { ...responseOf(result, 'deleteRange').deleteRange, revision: result.revision };
  }

  async txn(req: TxnRequest) {
    if (txnHasWrites(req)) this.checkQuota(0);
    const result = await this.propose({ kind: 'txn', txn: req });
    return { ...responseOf(result, 'txn').txn, revision: result.revision };
  }

  async compact(req: CompactionRequest) {
    const result = await this.propose({ kind: 'compaction', compaction: req });
    return { revision: result.revision };
  }

  async leaseGrant(id: bigint, ttl: number) {
    this.checkQuota(0);
    // Like etcd, an ID the client leaves at 0 comes from the request ID generator.
    const leaseId = id === 0n ? this.ids.next() & 0x7fff_ffff_ffff_ffffn : id;
    const result = await this.propose({ kind: 'leaseGrant', id: leaseId, ttl });
    const granted = responseOf(result, 'leaseGrant');
    return { id: granted.id, ttl: granted.ttl, revision: result.revision };
  }

  async leaseRevoke(id: bigint) {
    const result = await this.propose({ kind: 'leaseRevoke', id });
    return { revision: result.revision };
  }

  async leaseRenew(id: bigint): Promise<number> {
    return this.applier.leaseRenew(id);
  }

  leaseTimeToLive(id: bigint, keys: boolean) {
    return this.applier.leaseTimeToLive(id, keys);
  }

  leaseList(): bigint[] {
    return this.applier.leases().map((lease) => lease.id);
  }

  watch(request: WatchSubscription, sink: WatchSink): WatchHandle {
    return this.applier.watch(request, sink);
  }

  revisions() {
    return { current: this.applier.currentRevision, compacted: this.applier.compactRevision };
  }

  members(): Member[] {
    return this.applier.members.list().map((m) => ({
      ID: m.id.toString(),
      name: m.name,
      peerURLs: m.peerUrls,
      clientURLs: m.clientUrls,
      isLearner: m.isLearner,
    }));
  }

  status() {
    return {
      version: ETCD_API_VERSION,
      dbSize: String(this.applier.dbSize()),
      dbSizeInUse: String(this.applier.dbSizeInUse()),
      leader: this.memberId.toString(),
      raftIndex: String(this.log.commitIndex),
      raftTerm: String(this.log.term),
      raftAppliedIndex: String(this.appliedIndex),
      errors: this.applier.alarms().map((a) => `memberID:${a.memberID} alarm:${a.alarm} `),
      isLearner: false,
    };
  }

  hashKV(revision: number) {
    return this.applier.hashKV(revision);
  }

  hash(): number {
    return this.applier.hash();
  }

  async alarm(action: 'GET' | 'ACTIVATE' | 'DEACTIVATE', memberId: bigint, alarm: AlarmType): Promise<AlarmMember[]> {
    if (action === 'GET') return this.applier.alarms();
    const result = await this.propose({ kind: 'alarm', action, memberId, alarm });
    return responseOf(result, 'alarm').alarms;
  }

  async defragment(): Promise<void> {
    this.applier.defragment();
  }

  private health(): { healthy: boolean; reason: string } {
    if (this.fatal !== undefined) return { healthy: false, reason: 'WAL write failed' };
    const alarms = this.applier.alarms();
    if (alarms.length > 0) return { healthy: false, reason: `ALARM ${alarms.map((a) => a.alarm).join(',')}` };
    return { healthy: true, reason: '' };
  }
}

function txnHasWrites(req: TxnRequest): boolean {
  return [...req.success, ...req.failure].some(
    (op) => op.request_put || op.request_delete_range || (op.request_txn && txnHasWrites(op.request_txn)),
  );
}

/** etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds. */
function minLeaseTtl(config: ServerConfig): number {
  const electionTicks = Math.round(config.electionMs / config.heartbeatMs);
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * config.heartbeatMs) / 1000);
}

/**
 * On first start, records this member (and the cluster ID derived from the initial
 * cluster) in the backend; later starts check that the flags still describe the same
 * cluster, as etcd refuses a data dir of another cluster.
 */
function bootstrapMembership(applier: KvApplier, config: ServerConfig, logger: Logger): { memberId: bigint; clusterId: bigint } {
  const recordedCluster = applier.meta.getBigInt(MetaKey.clusterId);
  const recordedMember = applier.meta.getBigInt(MetaKey.memberId);
  if (recordedCluster !== undefined && recordedMember !== undefined) {
    // As etcd: an initialised data dir keeps its identity; --initial-* flags only bootstrap.
    const me = applier.members.list().find((m) => m.id === recordedMember);
    if (me && me.name !== config.name) {
      logger.warn('--name differs from the name this data dir was created with; keeping the recorded one', {
        recorded: me.name,
        given: config.name,
      });
    }
    if (me && me.clientUrls.join(',') !== config.advertiseClientUrls.join(',')) {
      applier.backend.transaction(() => applier.members.put({ ...me, clientUrls: config.advertiseClientUrls }));
    }
    logger.info('restarting member from its data dir', { 'member-id': formatId(recordedMember), 'cluster-id': formatId(recordedCluster) });
    return { memberId: recordedMember, clusterId: recordedCluster };
  }
  if (config.initialClusterState === 'existing') {
    throw new UsageError(
      `--initial-cluster-state existing needs a cluster to join, which this build cannot do yet; start with --initial-cluster-state new`,
    );
  }
  const memberId = computeMemberId(config.initialAdvertisePeerUrls, config.initialClusterToken);
  const clusterId = computeClusterId([memberId]);
  applier.backend.transaction(() => {
    applier.meta.putBigInt(MetaKey.clusterId, clusterId);
    applier.meta.putBigInt(MetaKey.memberId, memberId);
    applier.members.put({
      id: memberId,
      name: config.name,
      peerUrls: config.initialAdvertisePeerUrls,
      clientUrls: config.advertiseClientUrls,
      isLearner: false,
    });
  });
  return { memberId, clusterId };
}

/** The response of an applied entry of the given kind. */
function responseOf<K extends NonNullable<ApplyResult['response']>['kind']>(
  result: ApplyResult,
  kind: K,
): Extract<NonNullable<ApplyResult['response']>, { kind: K }> {
  const response = result.response;
  if (!response || response.kind !== kind) throw new Error(`applied entry answered ${response?.kind ?? 'nothing'}, expected ${kind}`);
  return response as Extract<NonNullable<ApplyResult['response']>, { kind: K }>;
}

function encodeWalMetadata(memberId: bigint, clusterId: bigint): Buffer {
  const buf = Buffer.alloc(16);
  buf.writeBigUInt64BE(memberId, 0);
  buf.writeBigUInt64BE(clusterId, 8);
  return buf;
}

/**
 * etcd's auto compaction. periodic: every retention/10 (at most hourly) compact to the
 * revision seen one retention ago; revision: every 5 minutes keep the last N revisions.
 */
function startAutoCompaction(
  server: EtcdServer,
  mode: NonNullable<ServerConfig['autoCompaction']>,
  logger: Logger,
): NodeJS.Timeout[] {
  const compactTo = (revision: number): void => {
    if (revision <= server.revisions().compacted) return;
    server
      .compact({ revision: String(revision), physical: false })
      .then(() => logger.info('auto compaction', { revision }))
      .catch((err: unknown) => logger.warn('auto compaction failed', { revision, error: errorMessage(err) }));
  };
  if (mode.mode === 'revision') {
    return [
      setInterval(() => {
        const target = server.revisions().current - mode.retainRevisions;
        if (target > 0) compactTo(target);
      }, 5 * 60 * 1000),
    ];
  }
  const interval = Math.min(mode.retentionMs / 10, 3_600_000);
  const samples: Array<{ at: number; revision: number }> = [];
  return [
    setInterval(() => {
      const now = Date.now();
      samples.push({ at: now, revision: server.revisions().current });
      let target: number | undefined;
      while (samples.length > 0 && now - samples[0]!.at >= mode.retentionMs) target = samples.shift()!.revision;
      if (target !== undefined) compactTo(target);
    }, interval),
  ];
}
