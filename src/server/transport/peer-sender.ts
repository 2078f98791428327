import http from 'node:http';
import https from 'node:https';
import { MessageType, type Message, type SnapshotMetadata } from '../../raft/index.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { formatId } from '../membership/ids.js';
import type { PeerTlsOptions } from './peer-tls.js';
import { PeerStream } from './peer-stream.js';
import { postSnapshot } from './snapshot-stream.js';

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

/**
 * Sends raft messages to peers: per peer one long-lived stream of message batches (see
 * PeerStream), which reports the peer unreachable to raft when it fails, so raft probes instead
 * of pipelining. A MsgSnap goes on its own connection, streamed together with a copy of the backend.
 */
export class PeerSender {
  private readonly streams = new Map<bigint, PeerStream>();
  private readonly snapshotHttpAgent = new http.Agent();
  private readonly snapshotFailedAt = new Map<bigint, number>();
  private readonly snapshotHttpsAgent: https.Agent;
  private stopped = false;

  constructor(private readonly options: PeerSenderOptions) {
    this.snapshotHttpsAgent = new https.Agent({ ...(options.tls ?? {}) });
  }

  send(messages: readonly Message[]): void {
    // Most Readys carry messages for one or two peers: group them without a map per call.
    let rest: Message[] = [];
    for (const m of messages) {
      if (m.type === MessageType.MsgSnap) this.sendSnapshot(m);
      else rest.push(m);
    }
    if (this.stopped) return;
    while (rest.length > 0) {
      const to = rest[0]!.to;
      const mine = rest.filter((m) => m.to === to);
      rest = rest.length === mine.length ? [] : rest.filter((m) => m.to !== to);
      this.streamTo(to).send(mine);
    }
  }

  /** Since when the stream to `id` has been accepted (etcd's ActiveSince); undefined while there is none. */
  connectedSince(id: bigint): number | undefined {
    return this.streams.get(id)?.connectedSince;
  }

  stop(): void {
    this.stopped = true;
    for (const stream of this.streams.values()) stream.stop();
    for (const agent of [this.snapshotHttpAgent, this.snapshotHttpsAgent]) agent.destroy();
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

  private streamTo(id: bigint): PeerStream {
    let stream = this.streams.get(id);
    if (stream === undefined) {
      const { localId, clusterId, peerUrls, tls, onUnreachable, onRemoved, logger } = this.options;
      stream = new PeerStream({ peerId: id, localId, clusterId, peerUrls: () => peerUrls(id), tls, onUnreachable: () => onUnreachable(id), onRemoved, logger });
      this.streams.set(id, stream);
    }
    return stream;
  }
}
