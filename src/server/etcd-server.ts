import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../api/etcd-proto.js';
import { EtcdError } from '../api/etcd-errors.js';
import {
  ConfChangeType,
  EntryType,
  MemoryStorage,
  RawNode,
  decodeConfChangeEntry,
  isRaftError,
  type Entry,
  type Message,
  type Snapshot,
  type SoftState,
} from '../raft/index.js';
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
import { StrataError, UsageError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { InternalRequest } from './apply/internal-request.js';
import { KvApplier, type ApplyResult } from './apply/kv-applier.js';
import { isTxnReadOnly } from './apply/txn.js';
import type { ServerConfig } from './config/server-config.js';
import { lockDataDir, type DataDirLock } from './datadir/lock.js';
import { dataDirPaths, prepareDataDir } from './datadir/layout.js';
import { copyBackendFile } from './backend/backend-copy.js';
import { MetaKey } from './backend/meta.js';
import { archiveDataDir, openBackendReader } from './datadir-reader.js';
import { toolVersion } from '../util/package-version.js';
import { clusterService, type ClusterApi } from './grpc/cluster-service.js';
import { kvService } from './grpc/kv-service.js';
import { leaseService } from './grpc/lease-service.js';
import { bindUrl, createGrpcServer, serverCredentials } from './grpc/listen.js';
import { readFlagFile } from '../util/flag-values.js';
import { authService } from './grpc/auth-service.js';
import { maintenanceService } from './grpc/maintenance-service.js';
import type { EtcdServerApi, WatchHandle, WatchSink, WatchSubscription } from './grpc/server-api.js';
import { watchService } from './grpc/watch-service.js';
import { computeClusterId, computeMemberId, formatId } from './membership/ids.js';
import { confStateOf, recordMemberChange } from './membership/member-changes.js';
import { encodeMember } from './membership/member-json.js';
import { startHttpEndpoint } from './metrics/http-endpoint.js';
import { MetricsRegistry, diskSecondsBuckets } from './metrics/registry.js';
import { LinearizableReads } from './replication/linearizable-reads.js';
import { decodeLogEntry, encodeLogEntry } from './replication/log-entry.js';
import { decodeMemberAttributes, encodeMemberAttributes, isMemberAttributesEntry } from './replication/member-attributes.js';
import { loadRaftLog } from './replication/raft-log-load.js';
import { RaftLoop } from './replication/raft-loop.js';
import { RequestIdGenerator } from './replication/request-id.js';
import { Waiters } from './replication/waiters.js';
import { DISK_CHECK_INTERVAL_MS, DiskSpaceGuard } from './quota/disk-space.js';
import { diskFullError } from './quota/disk-full.js';
import type { StoredMember } from './backend/members.js';
import { fetchClusterMembers } from './transport/fetch-members.js';
import { checkReconfigOnLeader, promoteOnLeader, renewOnLeader, timeToLiveOnLeader, type LeaderLink } from './transport/leader-forward.js';
import { checkReconfig, type ReconfigChange } from './membership/strict-reconfig.js';
import { PeerSender, type BackendCopy } from './transport/peer-sender.js';
import { receiveSnapshotBody } from './transport/snapshot-stream.js';
import {
  discardReceivedBackend,
  partialBackendPath,
  receivedBackendPath,
  recoverReceivedBackend,
  sealReceivedBackend,
  swapInReceivedBackend,
} from './replication/received-backend.js';
import { listenPeer, type PeerListener } from './transport/peer-server.js';
import { MEMBER_REMOVED_MESSAGE } from './transport/peer-headers.js';
import { peerTlsOptions, type PeerTlsOptions } from './transport/peer-tls.js';
import { Wal } from './wal/index.js';

/** The etcd API version the bundled server implements, reported by Status and /version. */
export const ETCD_API_VERSION = '3.4.0';

const LEASE_CHECK_INTERVAL_MS = 500;
const WATCH_PROGRESS_INTERVAL_MS = 10 * 60 * 1000;
const PUBLISH_RETRY_MS = 2000;
/** How long a member that applied its own removal keeps raft running (etcd's stop delay). */
const REMOVED_GRACE_MS = 1000;
/** etcd's HealthInterval: a peer counts as connected for the strict reconfig check after this long. */
const RECONFIG_HEALTH_INTERVAL_MS = 5000;

export interface StartedServer {
  server: EtcdServer;
  /** The client addresses actually bound (port 0 resolved), in --listen-client-urls order. */
  clientUrls: string[];
  metricsUrls: string[];
}

/**
 * The bundled etcd-compatible server, one member of a raft cluster: every write is proposed
 * as a log entry, replicated and persisted in the WAL by the raft loop, then applied to the
 * backend together with its index; linearizable reads wait for a ReadIndex round, serializable
 * ones are served from the applied state.
 */
export class EtcdServer implements EtcdServerApi, ClusterApi {
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  private readonly waiters: Waiters<ApplyResult>;
  private readonly confWaiters: Waiters<void>;
  private readonly reads: LinearizableReads;
  private readonly revoking = new Set<bigint>();
  private readonly diskSpace: DiskSpaceGuard;
  private readonly timers: NodeJS.Timeout[] = [];
  private grpcServer: grpc.Server | undefined;
  private httpServers: HttpServer[] = [];
  private peerListeners: PeerListener[] = [];
  private sender: PeerSender | undefined;
  private loop!: RaftLoop;
  private storage!: MemoryStorage;
  private memberCache: StoredMember[] = [];
  private leader = 0n;
  /** Called on every leader change (MoveLeader waits on them). */
  private readonly leaderWatchers = new Set<() => void>();
  private readonly requestTimeoutMs: number;
  private published = false;
  private lastPublishAttempt = 0;
  private fatal: unknown;
  private snapshotting = false;
  private lastSnapshotIndex = 0;
  /** The last log index applied, counting entries that carry no request (a new term's empty entry). */
  private appliedIndex = 0;
  private stopped = false;
  private removed = false;
  /** Numbers concurrent snapshot receptions, so each writes its own partial file. */
  private snapshotsReceiving = 0;
  private terminate!: (reason: StrataError) => void;
  /** Resolves when the member stops taking part by itself: it was removed from the cluster (etcd exits then). */
  readonly terminated = new Promise<StrataError>((resolve) => {
    this.terminate = resolve;
  });
  private readonly metrics = new MetricsRegistry();
  private readonly proposalsCommitted = this.metrics.counter('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.');
  private readonly proposalsApplied = this.metrics.counter('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.');
  private readonly snapshotsSent = this.metrics.counter('etcd_network_snapshot_send_success', 'Total number of successful snapshot sends.');
  private readonly snapshotsReceived = this.metrics.counter('etcd_network_snapshot_receive_success', 'Total number of successful snapshot receives.');
  private readonly snapshotsInstalled = this.metrics.counter('strata_server_snapshots_installed_total', 'Raft snapshots from a leader installed into the backend.');
  private readonly proposalsFailed = this.metrics.counter('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.');
  private readonly applyDuration = this.metrics.histogram('etcd_disk_backend_commit_duration_seconds', 'The latency distributions of commit called by backend.', diskSecondsBuckets);

  private constructor(
    readonly config: ServerConfig,
    private readonly logger: Logger,
    readonly memberId: bigint,
    readonly clusterId: bigint,
    private applier: KvApplier,
    private readonly wal: Wal,
    private readonly lock: DataDirLock,
    private readonly ids: RequestIdGenerator,
    private readonly peerTls: PeerTlsOptions | undefined,
  ) {
    this.maxRequestBytes = config.maxRequestBytes;
    this.maxTxnOps = config.maxTxnOps;
    this.diskSpace = new DiskSpaceGuard(config.dataDir, { logger });
    // etcd's request timeout: 5 s plus two election timeouts.
    this.requestTimeoutMs = 5000 + 2 * config.electionMs;
    this.waiters = new Waiters(this.requestTimeoutMs);
    this.confWaiters = new Waiters(this.requestTimeoutMs);
    this.reads = new LinearizableReads(
      {
        readIndex: (ctx) => this.loop.readIndex(ctx),
        hasLeader: () => this.leader !== 0n,
        appliedIndex: () => this.appliedIndex,
      },
      this.requestTimeoutMs,
    );
    this.memberCache = applier.members.list();
    this.metrics.gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => (this.leader !== 0n ? 1 : 0));
    this.metrics.gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => (this.leader === this.memberId ? 1 : 0));
    this.metrics.gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => this.waiters.size);
    this.metrics.gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => this.applier.dbSize());
    this.metrics.gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.', () => this.applier.dbSizeInUse());
    this.metrics.gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => this.applier.currentRevision);
    this.metrics.gauge('strata_wal_fsyncs_total', 'WAL fdatasync calls (one covers a whole group commit).', () => this.wal.stats.syncs);
    this.metrics.gauge('strata_wal_appends_total', 'WAL appends.', () => this.wal.stats.appends);
    this.metrics.gauge('etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.', () => config.quotaBackendBytes);
  }

  /** Opens (or creates) the data dir, rebuilds raft from the WAL, joins the peers, and starts serving. */
  static async start(config: ServerConfig, logger: Logger): Promise<StartedServer> {
    const lock = await lockDataDir(config.dataDir, { logger });
    let applier: KvApplier | undefined;
    let wal: Wal | undefined;
    let server: EtcdServer | undefined;
    try {
      const { paths } = await prepareDataDir(config.dataDir, logger);
      await recoverReceivedBackend(paths, logger);
      applier = openApplier(config, logger);
      const peerTls = peerTlsOptions(config.peerTls);
      const fresh = !(await Wal.exists(paths.wal));
      const { memberId, clusterId } = await bootstrapMembership(applier, config, logger, peerTls);
      let storage: MemoryStorage;
      let applied = 0;
      if (fresh) {
        wal = await Wal.create(paths.wal, encodeWalMetadata(memberId, clusterId), { logger });
        storage = new MemoryStorage();
      } else {
        const opened = await Wal.open(paths.wal, { logger });
        wal = opened.wal;
        ({ storage, applied } = await loadRaftLog(opened.replay, confStateOf(applier.members.list()), logger));
      }
      const node = new RawNode({
        id: memberId,
        electionTick: Math.max(2, Math.round(config.electionMs / config.heartbeatMs)),
        heartbeatTick: 1,
        storage,
        applied,
        checkQuorum: true,
        preVote: true,
        logger,
      });
      // A new cluster's members are its first log entries, so a member added later learns them from the log.
      if (fresh && config.initialClusterState === 'new') {
        node.bootstrap(applier.members.list().map((m) => ({ id: m.id, context: encodeMember(m) })));
      }
      server = new EtcdServer(config, logger, memberId, clusterId, applier, wal, lock, new RequestIdGenerator(memberId, Date.now()), peerTls);
      const started = server;
      server.storage = storage;
      server.loop = new RaftLoop(node, storage, wal, {
        send: (messages) => started.sender?.send(messages),
        apply: (entries) => started.applyCommitted(entries),
        installSnapshot: (snapshot) => started.installSnapshot(snapshot),
        readStates: (states) => started.reads.onReadStates(states),
        softState: (state) => started.onSoftState(state),
        fatal: (err) => started.onFatal(err),
      });
      await server.startPeers();
      server.loop.start(config.heartbeatMs);
      // The committed entries in the WAL reach the backend before the first client does (raft
      // does not campaign while committed conf changes wait to be applied).
      await server.loop.drain();
      const voters = node.status().config.voters;
      // Alone, there is nobody to wait for: elect ourselves now rather than after an election timeout.
      if (voters.length === 1 && voters[0] === memberId) {
        server.loop.campaign();
        await server.loop.drain();
      }
      server.lastSnapshotIndex = server.appliedIndex;
      const bound = await server.serve();
      server.startTimers();
      logger.info('serving client traffic', {
        name: config.name,
        'member-id': formatId(memberId),
        'cluster-id': formatId(clusterId),
        'client-urls': bound.clientUrls,
        'peer-urls': server.peerListeners.map((l) => l.url),
        'data-dir': config.dataDir,
      });
      return { server, ...bound };
    } catch (err) {
      if (server) {
        await server.stopPeers();
        await server.loop?.stop();
      }
      applier?.close();
      await wal?.close();
      await lock.release();
      throw err;
    }
  }

  private async startPeers(): Promise<void> {
    this.sender = new PeerSender({
      localId: this.memberId,
      clusterId: () => this.clusterId,
      peerUrls: (id) => this.memberCache.find((m) => m.id === id)?.peerUrls,
      tls: this.peerTls,
      onUnreachable: (id) => this.loop.reportUnreachable(id),
      onRemoved: () => this.onRemoved('a peer answered that this member was removed'),
      copyBackend: (to) => this.copyBackend(to),
      onSnapshotSent: (id, ok) => {
        if (ok) this.snapshotsSent.inc();
        this.loop.reportSnapshot(id, ok);
      },
      logger: this.logger,
    });
    for (const url of this.config.listenPeerUrls) {
      this.peerListeners.push(
        await listenPeer(url, {
          clusterId: () => this.clusterId,
          onMessages: (messages) => {
            for (const m of messages) this.loop.step(m);
          },
          onSnapshot: (message, dbSize, body) => this.receiveSnapshot(message, dbSize, body),
          isRemoved: (id) => this.applier.members.isRemoved(id),
          members: () => this.memberCache,
          renewLease: (id) => this.leaseRenew(id),
          leaseTimeToLive: (id) => this.leaseTimeToLive(id, false),
          promoteMember: (id) => this.memberPromote(id),
          checkReconfig: async (change) => this.checkReconfig(change),
          tls: this.peerTls,
          clientCertAuth: this.config.peerTls?.clientCertAuth ?? false,
          maxBodyBytes: 2 * this.config.maxRequestBytes + 64 * 1024 * 1024,
          logger: this.logger,
        }),
      );
    }
  }

  private async stopPeers(): Promise<void> {
    this.sender?.stop();
    await Promise.all(this.peerListeners.map((l) => l.close()));
    this.peerListeners = [];
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
                cert: readFlagFile('--cert-file', tls.certFile),
                key: readFlagFile('--key-file', tls.keyFile),
                ...(tls.trustedCaFile ? { ca: readFlagFile('--trusted-ca-file', tls.trustedCaFile) } : {}),
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
    const leaseTimer = setInterval(() => {
      this.revokeExpiredLeases();
      this.publishAttributes();
    }, LEASE_CHECK_INTERVAL_MS);
    this.timers.push(leaseTimer);
    // A member nobody writes to (a follower) still raises NOSPACE when its own disk fills.
    this.timers.push(setInterval(() => this.leader !== 0n && this.checkQuota(0).catch(() => undefined), DISK_CHECK_INTERVAL_MS));
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
    await this.stopPeers();
    await this.loop.stop();
    this.failWaiters(new EtcdError('stopped'));
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
    const applied = this.waiters.wait(requestId);
    this.loop.propose(data, (err) => this.waiters.fail(requestId, this.proposalError(err)));
    return applied.then(async (result) => {
      if (result.error) {
        this.proposalsFailed.inc();
        throw result.error;
      }
      if (result.done) await result.done;
      return result;
    });
  }

  /** Proposes a membership change (the member as context, as etcd does) and waits until it is applied here. */
  private async proposeMemberChange(type: ConfChangeType, member: StoredMember): Promise<void> {
    if (this.stopped || this.fatal !== undefined) throw new EtcdError('stopped');
    const id = this.ids.next();
    const applied = this.confWaiters.wait(id);
    try {
      this.loop.proposeConfChange({ kind: 'v1', id, type, nodeId: member.id, context: encodeMember(member) });
    } catch (err) {
      this.confWaiters.fail(id, this.proposalError(err));
    }
    await applied;
  }

  private proposalError(err: unknown): unknown {
    if (isRaftError(err, 'RAFT_PROPOSAL_DROPPED')) return new EtcdError(this.leader === 0n ? 'noLeader' : 'timeout');
    return err;
  }

  /** Publishes this member's name and client URLs through the log once there is a leader (etcd's publish). */
  private publishAttributes(): void {
    if (this.published || this.leader === 0n || this.fatal !== undefined || this.stopped) return;
    const now = Date.now();
    if (now - this.lastPublishAttempt < PUBLISH_RETRY_MS) return;
    this.lastPublishAttempt = now;
    // A refused publish is tried again on the next leader change or retry tick.
    this.loop.propose(encodeMemberAttributes({ memberId: this.memberId, name: this.config.name, clientUrls: this.config.advertiseClientUrls }), (err) => {
      if (!isRaftError(err, 'RAFT_PROPOSAL_DROPPED')) this.logger.warn('cannot publish member attributes', { error: errorMessage(err) });
    });
  }

  private onSoftState(state: SoftState): void {
    const was = this.leader;
    this.leader = state.lead;
    if (was !== state.lead) {
      this.logger.info('raft leader changed', { leader: formatId(state.lead), role: state.raftState });
      for (const notify of this.leaderWatchers) notify();
    }
    // A new leader's lessor starts the clocks again, as etcd's does, so no lease expires for the election's pause.
    if (state.raftState === 'leader' && was !== this.memberId) this.applier.promoteLeases(this.config.electionMs);
    this.publishAttributes();
  }

  private failWaiters(err: unknown): void {
    this.waiters.failAll(err);
    this.confWaiters.failAll(err);
    this.reads.failAll(err);
  }

  private applyCommitted(entries: readonly Entry[]): void {
    this.proposalsCommitted.inc({}, entries.length);
    const started = performance.now();
    let run: Entry[] = [];
    const flush = (): void => {
      if (run.length > 0) this.applyEntries(run);
      run = [];
    };
    for (const entry of entries) {
      if (entry.type !== EntryType.Normal) {
        flush();
        this.applyConfChangeEntry(entry);
      } else if (isMemberAttributesEntry(entry.data)) {
        flush();
        this.applyMemberAttributes(entry);
      } else {
        run.push(entry);
      }
    }
    flush();
    const last = entries.at(-1);
    if (last) this.appliedIndex = Math.max(this.appliedIndex, last.index);
    this.applyDuration.observe((performance.now() - started) / 1000);
    this.reads.onApplied();
    this.maybeSnapshot();
  }

  private applyEntries(entries: readonly Entry[]): void {
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
    decoded.forEach((entry, i) => this.waiters.trigger(entry.requestId, results[i]!));
  }

  private applyConfChangeEntry(entry: Entry): void {
    const cc = decodeConfChangeEntry(entry);
    if (!cc) return;
    this.loop.applyConfChange(cc);
    this.applier.backend.transaction(() => recordMemberChange(this.applier.members, cc));
    this.memberCache = this.applier.members.list();
    if (cc.kind !== 'v1') return;
    this.confWaiters.trigger(cc.id, undefined);
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === this.memberId) this.onRemoved('applied its own removal', REMOVED_GRACE_MS);
  }

  /**
   * As etcd: a removed member stops taking part, and its data dir can never rejoin under this
   * ID. After applying its own removal it keeps raft running for `graceMs` (etcd's
   * stopWithDelay): a removed leader must still tell the others that the removal is committed,
   * or they could not elect a new leader without it.
   */
  private onRemoved(how: string, graceMs = 0): void {
    if (this.removed) return;
    this.removed = true;
    this.logger.error(MEMBER_REMOVED_MESSAGE, { 'member-id': formatId(this.memberId), how });
    this.fatal = new EtcdError('stopped');
    this.failWaiters(this.fatal);
    const stop = (): void => {
      void this.loop.stop();
      this.terminate(
        new StrataError(
          'STRATA_MEMBER_REMOVED',
          `Member ${formatId(this.memberId)} stopped: ${MEMBER_REMOVED_MESSAGE}; remove its data dir before adding it to a cluster again`,
        ),
      );
    };
    if (graceMs === 0) stop();
    else this.timers.push(setTimeout(stop, graceMs));
  }

  private applyMemberAttributes(entry: Entry): void {
    const attributes = decodeMemberAttributes(entry.data);
    const member = this.memberCache.find((m) => m.id === attributes.memberId);
    if (member) {
      this.applier.backend.transaction(() => this.applier.members.put({ ...member, name: attributes.name, clientUrls: attributes.clientUrls }));
      this.memberCache = this.applier.members.list();
    }
    if (attributes.memberId === this.memberId) this.published = true;
  }

  private onFatal(err: unknown): void {
    this.fatal = err;
    this.logger.error('the raft loop stopped; no more writes are accepted', { error: errorMessage(err) });
    this.failWaiters(new EtcdError('stopped'));
    // As etcd, a member whose disk is full stops (and the process exits with why) instead of lingering.
    const full = diskFullError(err, this.config.dataDir);
    if (full) this.terminate(full);
  }

  /** After --snapshot-count entries: make the backend durable and drop the WAL before it. */
  private maybeSnapshot(): void {
    const applied = this.appliedIndex;
    if (this.snapshotting || applied - this.lastSnapshotIndex < this.config.snapshotCount) return;
    this.snapshotting = true;
    const term = this.storage.term(applied);
    const confState = confStateOf(this.memberCache);
    (async () => {
      await this.applier.sync();
      await this.wal.saveSnapshotMarker(term, applied);
      await this.wal.releaseTo(applied);
      // The snapshot raft sends a member that needs entries compacted away (its backend is copied when sent).
      if (applied > this.storage.snapshot().metadata.index) this.storage.createSnapshot(applied, confState, new Uint8Array(0));
      const keepFrom = applied - this.config.snapshotCatchUpEntries;
      if (keepFrom > this.storage.firstIndex()) this.storage.compact(keepFrom);
      this.lastSnapshotIndex = applied;
      this.logger.info('snapshot taken; released older WAL segments', { index: applied, term });
    })()
      .catch((err: unknown) => this.logger.warn('snapshot failed; will retry', { error: errorMessage(err) }))
      .finally(() => {
        this.snapshotting = false;
      });
  }

  private get snapDir(): string {
    return dataDirPaths(this.config.dataDir).snap;
  }

  /** A consistent copy of the backend to stream to `to`, at the applied index now (at or past raft's snapshot). */
  private async copyBackend(to: bigint): Promise<BackendCopy> {
    const path = partialBackendPath(this.snapDir, `send-${formatId(to)}`);
    const release = (): Promise<void> => unlink(path).catch(() => undefined);
    await release();
    const { index, members } = await copyBackendFile(this.applier.backend.path, path, this.logger);
    const metadata = { index, term: this.storage.term(index), confState: confStateOf(members) };
    return { path, metadata, release };
  }

  /**
   * A MsgSnap and its backend from the leader: the backend is stored (fsynced, under its final
   * name) before raft sees the message, so the Ready that installs it finds it complete.
   */
  private async receiveSnapshot(m: Message, dbSize: number, body: AsyncIterable<Buffer>): Promise<void> {
    if (this.stopped || this.fatal !== undefined) throw new EtcdError('stopped');
    const index = m.snapshot?.metadata.index ?? 0;
    const partial = partialBackendPath(this.snapDir, `${index.toString(16).padStart(16, '0')}.snap-${this.snapshotsReceiving++}`);
    await receiveSnapshotBody(body, dbSize, partial);
    await sealReceivedBackend(partial, this.snapDir, index, { memberId: this.memberId, clusterId: this.clusterId });
    this.snapshotsReceived.inc();
    this.logger.info('received a snapshot backend from the leader', { from: formatId(m.from), index, bytes: dbSize });
    this.loop.step(m);
    await this.loop.drain();
    // Raft ignores a snapshot it does not need (it has committed that far): drop its backend.
    if (this.fatal === undefined && existsSync(receivedBackendPath(this.snapDir, index))) {
      await discardReceivedBackend(this.snapDir, index);
      this.logger.info('dropped a snapshot backend raft did not need', { index });
    }
  }

  /** Replaces the backend with the one received for `snapshot` (its WAL marker is durable) and reloads everything from it. */
  private installSnapshot(snapshot: Snapshot): Promise<void> {
    const index = snapshot.metadata.index;
    const old = this.applier;
    old.close(true);
    swapInReceivedBackend(this.snapDir, old.backend.path, index);
    const next = openApplier(this.config, this.logger);
    old.moveWatchesTo(next);
    this.applier = next;
    this.memberCache = next.members.list();
    this.appliedIndex = Math.max(this.appliedIndex, index);
    this.lastSnapshotIndex = index;
    this.snapshotsInstalled.inc();
    this.logger.info('installed a snapshot from the leader', {
      index,
      term: snapshot.metadata.term,
      revision: next.currentRevision,
      'consistent-index': next.consistentIndex,
    });
    this.reads.onApplied();
    return Promise.resolve();
  }

  private revokeExpiredLeases(): void {
    // Only the leader's lessor expires leases, as in etcd; followers learn of it from the log.
    if (this.leader !== this.memberId) return;
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

  /**
   * As etcd's quota check: over the quota, or with the data dir's disk nearly full, the NOSPACE
   * alarm is raised (and applied) before the request fails.
   */
  private async checkQuota(bytes: number): Promise<void> {
    const full = !this.applier.quotaAvailable(bytes)
      ? { reason: 'backend quota exceeded', quota: this.config.quotaBackendBytes }
      : !this.diskSpace.hasRoom(bytes)
        ? { reason: 'the disk of the data dir is nearly full', dir: this.diskSpace.dir, free: this.diskSpace.lastFreeBytes, reserve: this.diskSpace.reserve }
        : undefined;
    if (full === undefined) return;
    if (this.applier.alarms('NOSPACE').length === 0) {
      const { reason, ...fields } = full;
      this.logger.warn(`${reason}; raising the NOSPACE alarm`, fields);
      await this.propose({ kind: 'alarm', action: 'ACTIVATE', memberId: this.memberId, alarm: 'NOSPACE' }).catch((err: unknown) =>
        this.logger.warn('raising the NOSPACE alarm failed', { error: errorMessage(err) }),
      );
    }
    throw new EtcdError('noSpace');
  }

  // ---- EtcdServerApi --------------------------------------------------------------------

  header(revision?: number): ResponseHeader {
    return {
      cluster_id: this.clusterId.toString(),
      member_id: this.memberId.toString(),
      revision: String(revision ?? this.applier.currentRevision),
      raft_term: String(this.loop.hardState.term),
    };
  }

  async range(req: RangeRequest) {
    if (!req.serializable) await this.reads.wait();
    return this.applier.range(req);
  }

  async put(req: PutRequest) {
    await this.checkQuota(req.key.length + req.value.length);
    const result = await this.propose({ kind: 'put', put: req });
    return { ...responseOf(result, 'put').put, revision: result.revision };
  }

  async deleteRange(req: DeleteRangeRequest) {
    const result = await this.propose({ kind: 'deleteRange', deleteRange: req });
    return { ...responseOf(result, 'deleteRange').deleteRange, revision: result.revision };
  }

  async txn(req: TxnRequest) {
    if (!isTxnReadOnly(req)) await this.checkQuota(0);
    const result = await this.propose({ kind: 'txn', txn: req });
    return { ...responseOf(result, 'txn').txn, revision: result.revision };
  }

  async compact(req: CompactionRequest) {
    const result = await this.propose({ kind: 'compaction', compaction: req });
    return { revision: result.revision };
  }

  async leaseGrant(id: bigint, ttl: number) {
    await this.checkQuota(0);
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
    if (this.leader === this.memberId) return this.applier.leaseRenew(id);
    return renewOnLeader(this.leaderLink(), id);
  }

  /** Where a follower forwards what only the leader can answer. */
  private leaderLink(): LeaderLink {
    const peerUrl = this.memberCache.find((m) => m.id === this.leader)?.peerUrls[0];
    if (this.leader === 0n || peerUrl === undefined) throw new EtcdError('noLeader');
    return { peerUrl, clusterId: this.clusterId, tls: this.peerTls };
  }

  async leaseTimeToLive(id: bigint, keys: boolean) {
    const local = this.applier.leaseTimeToLive(id, keys);
    if (this.leader === this.memberId) return local;
    // The keys are replicated state; the remaining TTL moves with keep-alives only the leader sees.
    return { ...local, ...(await timeToLiveOnLeader(this.leaderLink(), id)) };
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
    return this.memberCache.map(toApiMember);
  }

  async memberAdd(peerUrls: string[], isLearner: boolean): Promise<Member> {
    const wanted = new Set(peerUrls);
    if (this.memberCache.some((m) => m.peerUrls.some((u) => wanted.has(u)))) throw new EtcdError('peerURLExist');
    // etcd's MemberAdd: the ID hashes the peer URLs with the time, no cluster token.
    const id = computeMemberId(peerUrls, '', Math.floor(Date.now() / 1000));
    if (this.memberCache.some((m) => m.id === id)) throw new EtcdError('memberExist');
    const member: StoredMember = { id, name: '', peerUrls, clientUrls: [], isLearner };
    await this.checkReconfigAnywhere({ kind: 'add', isLearner });
    await this.proposeMemberChange(isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, member);
    return toApiMember(member);
  }

  async memberRemove(id: bigint): Promise<void> {
    const member = this.knownMember(id);
    await this.checkReconfigAnywhere({ kind: 'remove', id });
    await this.proposeMemberChange(ConfChangeType.RemoveNode, member);
  }

  /** --strict-reconfig-check, run by the leader: only it talks to every member. */
  private async checkReconfigAnywhere(change: ReconfigChange): Promise<void> {
    if (!this.config.strictReconfigCheck) return;
    if (this.leader === this.memberId) this.checkReconfig(change);
    else await checkReconfigOnLeader(this.leaderLink(), change);
  }

  private checkReconfig(change: ReconfigChange): void {
    if (this.leader !== this.memberId) throw new EtcdError('notLeader');
    checkReconfig(
      {
        members: this.memberCache,
        self: this.memberId,
        connectedSince: (id) => this.sender?.connectedSince(id),
        // etcd waits 5 s of connection; a test cluster's short election timeout shortens it.
        healthIntervalMs: Math.min(RECONFIG_HEALTH_INTERVAL_MS, this.config.electionMs),
        now: Date.now(),
      },
      change,
    );
  }

  async memberUpdate(id: bigint, peerUrls: string[]): Promise<void> {
    const wanted = new Set(peerUrls);
    if (this.memberCache.some((m) => m.id !== id && m.peerUrls.some((u) => wanted.has(u)))) throw new EtcdError('peerURLExist');
    await this.proposeMemberChange(ConfChangeType.UpdateNode, { ...this.knownMember(id), peerUrls });
  }

  async memberPromote(id: bigint): Promise<void> {
    const member = this.knownMember(id);
    if (!member.isLearner) throw new EtcdError('memberNotLearner');
    // As etcd: a learner becomes a voter only once it has 90% of the leader's log, which only the leader knows.
    if (this.leader !== this.memberId) return promoteOnLeader(this.leaderLink(), id);
    const progress = this.loop.status().progress;
    const own = progress?.get(this.memberId)?.match ?? 0;
    const learner = progress?.get(id)?.match ?? 0;
    if (learner < own * 0.9) throw new EtcdError('learnerNotReady');
    await this.proposeMemberChange(ConfChangeType.AddNode, { ...member, isLearner: false });
  }

  private knownMember(id: bigint): StoredMember {
    const member = this.memberCache.find((m) => m.id === id);
    if (!member) throw new EtcdError('memberNotFound');
    return member;
  }

  status() {
    const hardState = this.loop.hardState;
    return {
      version: ETCD_API_VERSION,
      dbSize: String(this.applier.dbSize()),
      dbSizeInUse: String(this.applier.dbSizeInUse()),
      leader: this.leader.toString(),
      raftIndex: String(hardState.commit),
      raftTerm: String(hardState.term),
      raftAppliedIndex: String(this.appliedIndex),
      errors: this.applier.alarms().map((a) => `memberID:${a.memberID} alarm:${a.alarm} `),
      isLearner: this.memberCache.some((m) => m.id === this.memberId && m.isLearner),
    };
  }

  hashKV(revision: number) {
    return this.applier.hashKV(revision);
  }

  hash(): number {
    return this.applier.hash();
  }

  snapshotArchive() {
    const view = openBackendReader(this.applier.backend.path, { logger: this.logger });
    const { writer, done } = archiveDataDir(view, {
      toolVersion: toolVersion(),
      source: { kind: 'strata', serverVersion: ETCD_API_VERSION },
      logger: this.logger,
    });
    return { output: writer.output, revision: view.revision, done, cancel: (reason: Error) => writer.abort(reason) };
  }

  async alarm(action: 'GET' | 'ACTIVATE' | 'DEACTIVATE', memberId: bigint, alarm: AlarmType): Promise<AlarmMember[]> {
    if (action === 'GET') return this.applier.alarms();
    const result = await this.propose({ kind: 'alarm', action, memberId, alarm });
    return responseOf(result, 'alarm').alarms;
  }

  defragment(): Promise<void> {
    return this.applier.defragment();
  }

  /** etcd's MoveLeader: only the leader hands over, only to a voter, and it waits until the transferee leads. */
  async moveLeader(transferee: bigint): Promise<void> {
    if (this.leader !== this.memberId) throw new EtcdError('notLeader');
    const target = this.memberCache.find((m) => m.id === transferee);
    if (target === undefined || target.isLearner) throw new EtcdError('badLeaderTransferee');
    if (transferee === this.memberId) return;
    let notify = (): void => undefined;
    const led = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.requestTimeoutMs);
      notify = () => {
        if (this.leader !== transferee) return;
        clearTimeout(timer);
        resolve(true);
      };
    });
    this.leaderWatchers.add(notify);
    try {
      this.loop.transferLeader(transferee);
      if (!(await led)) throw new EtcdError('timeoutLeaderTransfer');
      this.logger.info('leadership transferred', { to: formatId(transferee) });
    } finally {
      this.leaderWatchers.delete(notify);
    }
  }

  private health(): { healthy: boolean; reason: string } {
    if (this.fatal !== undefined) return { healthy: false, reason: 'WAL write failed' };
    if (this.leader === 0n) return { healthy: false, reason: 'RAFT NO LEADER' };
    const alarms = this.applier.alarms();
    if (alarms.length > 0) return { healthy: false, reason: `ALARM ${alarms.map((a) => a.alarm).join(',')}` };
    return { healthy: true, reason: '' };
  }
}

function openApplier(config: ServerConfig, logger: Logger): KvApplier {
  return KvApplier.open({ dataDir: config.dataDir, logger, minLeaseTtl: minLeaseTtl(config), quotaBackendBytes: config.quotaBackendBytes });
}

/** etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds. */
function minLeaseTtl(config: ServerConfig): number {
  const electionTicks = Math.round(config.electionMs / config.heartbeatMs);
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * config.heartbeatMs) / 1000);
}

function toApiMember(m: StoredMember): Member {
  return { ID: m.id.toString(), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

/**
 * On first start, records the cluster in the backend: with --initial-cluster-state new, every
 * member of --initial-cluster with etcd's IDs; with existing, the members a running member
 * reports (this one must have been added with `member add` first). Later starts keep the
 * recorded identity, as etcd refuses a data dir of another cluster.
 */
async function bootstrapMembership(
  applier: KvApplier,
  config: ServerConfig,
  logger: Logger,
  peerTls: PeerTlsOptions | undefined,
): Promise<{ memberId: bigint; clusterId: bigint }> {
  const recordedCluster = applier.meta.getBigInt(MetaKey.clusterId);
  const recordedMember = applier.meta.getBigInt(MetaKey.memberId);
  if (recordedCluster !== undefined && recordedMember !== undefined) {
    // As etcd: an initialised data dir keeps its identity; --initial-* flags only bootstrap.
    const me = applier.members.list().find((m) => m.id === recordedMember);
    if (me && me.name !== config.name && me.name !== '') {
      logger.warn('--name differs from the name this data dir was created with; keeping the recorded one', {
        recorded: me.name,
        given: config.name,
      });
    }
    logger.info('restarting member from its data dir', { 'member-id': formatId(recordedMember), 'cluster-id': formatId(recordedCluster) });
    return { memberId: recordedMember, clusterId: recordedCluster };
  }
  const own = [...config.initialAdvertisePeerUrls].sort().join(',');
  const isMe = (m: StoredMember): boolean => [...m.peerUrls].sort().join(',') === own;
  let clusterId: bigint;
  let members: StoredMember[];
  if (config.initialClusterState === 'existing') {
    const others = [...config.initialCluster].filter(([name]) => name !== config.name).flatMap(([, urls]) => urls);
    const listsMe = (cluster: { members: StoredMember[] }): boolean => cluster.members.some(isMe);
    const remote = await fetchClusterMembers(others, peerTls, listsMe);
    clusterId = remote.clusterId;
    members = remote.members;
    if (!listsMe(remote)) {
      throw new UsageError(
        `Cannot join cluster ${formatId(clusterId)}: it has no member with peer URLs ${own}; run 'member add --peer-urls=${own}' on the cluster first`,
      );
    }
  } else {
    members = [...config.initialCluster].map(([name, peerUrls]) => ({
      id: computeMemberId(peerUrls, config.initialClusterToken),
      name,
      peerUrls,
      clientUrls: [],
      isLearner: false,
    }));
    clusterId = computeClusterId(members.map((m) => m.id));
  }
  const me = members.find(isMe);
  if (!me) throw new StrataError('STRATA_BOOTSTRAP', `Cannot bootstrap: no member of --initial-cluster has peer URLs ${own}`);
  applier.backend.transaction(() => {
    applier.meta.putBigInt(MetaKey.clusterId, clusterId);
    applier.meta.putBigInt(MetaKey.memberId, me.id);
    for (const m of members) applier.members.put(m.id === me.id ? { ...m, name: config.name, clientUrls: config.advertiseClientUrls } : m);
  });
  return { memberId: me.id, clusterId };
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
