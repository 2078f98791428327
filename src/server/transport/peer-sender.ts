import http from 'node:http';
import https from 'node:https';
import { MessageType, type Message, type SnapshotMetadata } from '../../raft/index.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { formatId } from '../membership/ids.js';
import { encodeMessages } from './message-codec.js';
import { CLUSTER_ID_HEADER, FROM_HEADER, RAFT_PATH, REMOVED_STATUS } from './peer-headers.js';
import type { PeerTlsOptions } from './peer-tls.js';
import { postSnapshot } from './snapshot-stream.js';

/** Messages queued for one peer beyond this are dropped: raft resends what matters. */
const MAX_QUEUED = 4096;
const MAX_BATCH = 512;
const REQUEST_TIMEOUT_MS = 5000;
/** A snapshot transfer that makes no progress for this long has failed (raft then retries it). */
const SNAPSHOT_IDLE_TIMEOUT_MS = 30_000;
/** After a failed snapshot transfer to a peer, raft's next MsgSnap to it within this long fails at once: each try copies the whole backend. */
const SNAPSHOT_RETRY_MS = 2000;

/** A consistent copy of the backend to stream, and the raft position it is at; release() removes it. */
export interface BackendCopy {
  path: string;
  metadata: SnapshotMetadata;
  release(): Promise<void>;
}

export interface PeerSenderOptions {
  localId: bigint;
  clusterId: () => bigint;
  /** The advertised peer URLs of a member, or undefined when it is not (or no longer) a member. */
  peerUrls: (id: bigint) => readonly string[] | undefined;
  tls: PeerTlsOptions | undefined;
  onUnreachable: (id: bigint) => void;
  /** A peer answered that this member was removed from the cluster. */
  onRemoved: () => void;
  /** A copy of the backend to send with a MsgSnap to `to`, at an applied index at or past the snapshot's. */
  copyBackend: (to: bigint) => Promise<BackendCopy>;
  /** The outcome of a MsgSnap's transfer, for raft's reportSnapshot. */
  onSnapshotSent: (id: bigint, ok: boolean) => void;
  logger: Logger;
}

interface PeerQueue {
  messages: Message[];
  sending: boolean;
  failures: number;
  /** When the current run of delivered requests began. */
  deliveringSince: number | undefined;
}

/**
 * Sends raft messages to peers over HTTP(S) POSTs on keep-alive connections: per peer one
 * request in flight, and everything queued meanwhile goes in the next request (batching),
 * so a busy leader's appends stream back to back. A failed request reports the peer
 * unreachable to raft, which then probes instead of pipelining. A MsgSnap goes on its own
 * connection, streamed together with a copy of the backend.
 */
export class PeerSender {
  private readonly queues = new Map<bigint, PeerQueue>();
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  private readonly httpsAgent: https.Agent;
  private readonly snapshotHttpAgent = new http.Agent();
  private readonly snapshotFailedAt = new Map<bigint, number>();
  private readonly snapshotHttpsAgent: https.Agent;
  private stopped = false;

  constructor(private readonly options: PeerSenderOptions) {
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 2, ...(options.tls ?? {}) });
    this.snapshotHttpsAgent = new https.Agent({ ...(options.tls ?? {}) });
  }

  send(messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.type === MessageType.MsgSnap) {
        this.sendSnapshot(m);
        continue;
      }
      let queue = this.queues.get(m.to);
      if (!queue) this.queues.set(m.to, (queue = { messages: [], sending: false, failures: 0, deliveringSince: undefined }));
      if (queue.messages.length >= MAX_QUEUED) {
        this.options.onUnreachable(m.to);
        continue;
      }
      queue.messages.push(m);
    }
    for (const [id, queue] of this.queues) if (!queue.sending && queue.messages.length > 0) this.flush(id, queue);
  }

  /** Since when messages to `id` have been delivered without a failure (etcd's ActiveSince); undefined when they are not. */
  connectedSince(id: bigint): number | undefined {
    return this.queues.get(id)?.deliveringSince;
  }

  stop(): void {
    this.stopped = true;
    for (const agent of [this.httpAgent, this.httpsAgent, this.snapshotHttpAgent, this.snapshotHttpsAgent]) agent.destroy();
  }

  private sendSnapshot(m: Message): void {
    const url = this.options.peerUrls(m.to)?.[0];
    const index = m.snapshot?.metadata.index ?? 0;
    const failedAt = this.snapshotFailedAt.get(m.to);
    if (url === undefined || this.stopped || (failedAt !== undefined && Date.now() - failedAt < SNAPSHOT_RETRY_MS)) {
      this.options.onSnapshotSent(m.to, false);
      return;
    }
    const { logger } = this.options;
    logger.info('sending a snapshot to a member', { member: formatId(m.to), 'raft-snapshot-index': index });
    (async () => {
      const copy = await this.options.copyBackend(m.to);
      try {
        // As etcd's merged snapshot: the message names the position of the backend actually sent
        // (with the configuration there), not the older one raft compacted its log to.
        await postSnapshot({
          url,
          message: { ...m, snapshot: { metadata: copy.metadata, data: m.snapshot?.data ?? new Uint8Array(0) } },
          dbPath: copy.path,
          clusterId: formatId(this.options.clusterId()),
          from: formatId(this.options.localId),
          agent: url.startsWith('https:') ? this.snapshotHttpsAgent : this.snapshotHttpAgent,
          idleTimeoutMs: SNAPSHOT_IDLE_TIMEOUT_MS,
        });
      } finally {
        await copy.release();
      }
    })().then(
      () => {
        this.snapshotFailedAt.delete(m.to);
        logger.info('sent a snapshot to a member', { member: formatId(m.to) });
        this.options.onSnapshotSent(m.to, true);
      },
      (err: unknown) => {
        this.snapshotFailedAt.set(m.to, Date.now());
        logger.warn('sending a snapshot to a member failed', { member: formatId(m.to), error: errorMessage(err) });
        if (!this.stopped) this.options.onSnapshotSent(m.to, false);
      },
    );
  }

  private flush(id: bigint, queue: PeerQueue): void {
    if (this.stopped) return;
    const urls = this.options.peerUrls(id);
    const url = urls?.[queue.failures % urls.length];
    if (!url) {
      queue.messages = [];
      return;
    }
    const batch = queue.messages.splice(0, MAX_BATCH);
    queue.sending = true;
    this.post(url, encodeMessages(batch)).then(
      () => {
        queue.failures = 0;
        queue.deliveringSince ??= Date.now();
      },
      (err: unknown) => {
        queue.deliveringSince = undefined;
        if (queue.failures++ === 0) this.options.logger.warn('cannot reach peer', { member: formatId(id), url, error: errorMessage(err) });
        this.options.onUnreachable(id);
      },
    ).finally(() => {
      queue.sending = false;
      if (queue.messages.length > 0) this.flush(id, queue);
    });
  }

  private post(base: string, body: Buffer): Promise<void> {
    const target = new URL(RAFT_PATH, base);
    const secure = target.protocol === 'https:';
    return new Promise<void>((resolve, reject) => {
      const req = (secure ? https : http).request(
        target,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': body.length,
            [CLUSTER_ID_HEADER]: formatId(this.options.clusterId()),
            [FROM_HEADER]: formatId(this.options.localId),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode === 204) resolve();
            else if (res.statusCode === REMOVED_STATUS) {
              this.options.onRemoved();
              reject(new Error('this member was removed from the cluster'));
            } else reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').trim()}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
