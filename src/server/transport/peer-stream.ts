import http from 'node:http';
import https from 'node:https';
import type { Message } from '../../raft/index.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { formatId } from '../membership/ids.js';
import { encodeFrame } from './frame-codec.js';
import { CLUSTER_ID_HEADER, FROM_HEADER, PEER_TCP_KEEPALIVE_MS, RAFT_STREAM_PATH, REMOVED_STATUS } from './peer-headers.js';
import type { PeerTlsOptions } from './peer-tls.js';

/** Messages waiting for a congested stream to drain beyond this are dropped: raft resends what matters. */
const MAX_QUEUED = 4096;
const MAX_BATCH = 512;
/** A stream that neither drains nor is answered for this long is given up (the peer is stopped or cut off). */
const STALL_TIMEOUT_MS = 5000;
/** Reconnecting after a failure waits this long, doubling per further failure up to the maximum. */
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;

export interface PeerStreamOptions {
  peerId: bigint;
  localId: bigint;
  clusterId: () => bigint;
  /** The peer's advertised URLs; undefined once it is no longer a member. */
  peerUrls: () => readonly string[] | undefined;
  tls: PeerTlsOptions | undefined;
  onUnreachable: () => void;
  onRemoved: () => void;
  logger: Logger;
}

interface OpenStream {
  req: http.ClientRequest;
  url: string;
  /** write() returned false: frames wait in the queue until 'drain'. */
  congested: boolean;
  stallTimer: NodeJS.Timeout | undefined;
}

/**
 * Raft messages to one peer over one long-lived HTTP request whose body is a sequence of
 * length-prefixed message batches, so a busy leader pays for a frame, not a request, per batch.
 * The peer answers 200 at once when it accepts the stream (cluster ID and sender checked then),
 * and ends it when it stops taking it. A failed or ended stream reports the peer unreachable,
 * drops what is queued (raft resends), and is reopened by the next send after a backoff, during
 * which messages are dropped and reported unreachable, as etcd does with a broken stream.
 */
export class PeerStream {
  private stream: OpenStream | undefined;
  private queue: Message[] = [];
  private failures = 0;
  private retryAt = 0;
  private stopped = false;
  /** Since when the current stream has been accepted (etcd's ActiveSince). */
  private acceptedAt: number | undefined;

  constructor(private readonly options: PeerStreamOptions) {}

  get connectedSince(): number | undefined {
    return this.acceptedAt;
  }

  send(messages: readonly Message[]): void {
    if (this.stopped) return;
    const urls = this.options.peerUrls();
    if (urls === undefined || urls.length === 0) {
      this.close();
      return;
    }
    if (this.stream !== undefined && !urls.includes(this.stream.url)) this.close();
    if (this.stream === undefined) {
      if (Date.now() < this.retryAt) {
        this.options.onUnreachable();
        return;
      }
      this.stream = this.open(urls[this.failures % urls.length]!);
    }
    if (this.queue.length + messages.length > MAX_QUEUED) {
      this.options.onUnreachable();
      return;
    }
    this.queue.push(...messages);
    if (!this.stream.congested) this.flush(this.stream);
  }

  stop(): void {
    this.stopped = true;
    this.close();
  }

  private flush(stream: OpenStream): void {
    while (this.queue.length > 0 && !stream.congested) {
      const batch = this.queue.length <= MAX_BATCH ? this.queue : this.queue.slice(0, MAX_BATCH);
      this.queue = this.queue.length <= MAX_BATCH ? [] : this.queue.slice(MAX_BATCH);
      if (!stream.req.write(encodeFrame(batch))) {
        stream.congested = true;
        stream.stallTimer = setTimeout(() => stream.req.destroy(new Error(`the stream did not drain within ${STALL_TIMEOUT_MS} ms`)), STALL_TIMEOUT_MS);
      }
    }
  }

  private open(url: string): OpenStream {
    const target = new URL(RAFT_STREAM_PATH, url);
    const secure = target.protocol === 'https:';
    const req = (secure ? https : http).request(target, {
      method: 'POST',
      // Its own connection: the stream holds it for as long as both members run.
      agent: false,
      ...(secure ? (this.options.tls ?? {}) : {}),
      headers: {
        'content-type': 'application/octet-stream',
        [CLUSTER_ID_HEADER]: formatId(this.options.clusterId()),
        [FROM_HEADER]: formatId(this.options.localId),
      },
    });
    const stream: OpenStream = { req, url, congested: false, stallTimer: undefined };
    // Until the peer answers, a stream that cannot connect is given up like one that cannot drain.
    const answerTimer = setTimeout(() => req.destroy(new Error(`no answer within ${STALL_TIMEOUT_MS} ms`)), STALL_TIMEOUT_MS);
    req.on('socket', (socket) => socket.setKeepAlive(true, PEER_TCP_KEEPALIVE_MS));
    req.on('drain', () => {
      clearTimeout(stream.stallTimer);
      stream.congested = false;
      if (this.stream === stream) this.flush(stream);
    });
    req.on('response', (res) => {
      clearTimeout(answerTimer);
      if (res.statusCode === 200) {
        this.failures = 0;
        if (this.stream === stream) this.acceptedAt = Date.now();
        res.resume();
        res.on('end', () => this.fail(stream, new Error('the peer ended the stream')));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === REMOVED_STATUS && !this.stopped) this.options.onRemoved();
        this.fail(stream, new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').trim()}`));
      });
    });
    req.on('error', (err) => this.fail(stream, err));
    req.on('close', () => {
      clearTimeout(answerTimer);
      clearTimeout(stream.stallTimer);
      this.fail(stream, new Error('the connection closed'));
    });
    req.flushHeaders();
    return stream;
  }

  /** The first failure of `stream` retires it: the peer is reported unreachable and reconnecting backs off. */
  private fail(stream: OpenStream, err: unknown): void {
    if (this.stream !== stream) return;
    this.close();
    if (this.stopped) return;
    if (this.failures === 0) this.options.logger.warn('cannot reach peer', { member: formatId(this.options.peerId), url: stream.url, error: errorMessage(err) });
    this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.failures);
    this.failures++;
    this.options.onUnreachable();
  }

  private close(): void {
    const stream = this.stream;
    if (stream === undefined) return;
    this.stream = undefined;
    this.acceptedAt = undefined;
    this.queue = [];
    clearTimeout(stream.stallTimer);
    stream.req.destroy();
  }
}
