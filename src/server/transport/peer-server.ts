import http from 'node:http';
import https from 'node:https';
import type { Message } from '../../raft/index.js';
import { StrataError, errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { StoredMember } from '../backend/members.js';
import { formatId } from '../membership/ids.js';
import { memberToJson } from '../membership/member-json.js';
import { FrameDecoder } from './frame-codec.js';
import { EtcdError } from '../../api/etcd-errors.js';
import { ETCD_ERROR_STATUS } from './leader-forward.js';
import type { ReconfigChange } from '../membership/strict-reconfig.js';
import { CLUSTER_ID_HEADER, FROM_HEADER, LEASE_RENEW_PATH, LEASE_TTL_PATH, MEMBER_REMOVED_MESSAGE, REMOVED_STATUS, MEMBER_PROMOTE_PATH, MEMBERS_PATH, PEER_TCP_KEEPALIVE_MS, RAFT_STREAM_PATH, RECONFIG_CHECK_PATH, SNAPSHOT_PATH } from './peer-headers.js';
import type { PeerTlsOptions } from './peer-tls.js';
import { snapshotMessageOf } from './snapshot-stream.js';

/** How often an open raft stream asks whether its sender was removed from the cluster. */
const REMOVAL_CHECK_MS = 1000;

export interface PeerServerOptions {
  clusterId: () => bigint;
  onMessages: (messages: Message[]) => void;
  /** Whether a member ID was removed from the cluster: its raft traffic is answered 410 Gone, as etcd does. */
  isRemoved: (id: bigint) => boolean;
  /** A MsgSnap with its backend streaming in `body` (`dbSize` bytes, then its SHA-256); resolves once stored and stepped. */
  onSnapshot: (message: Message, dbSize: number, body: AsyncIterable<Buffer>) => Promise<void>;
  members: () => StoredMember[];
  /** A keep-alive a follower forwarded: renews on this member (the leader); returns the TTL in seconds. */
  renewLease: (id: bigint) => Promise<number>;
  /** A time-to-live a follower forwarded: the remaining and granted TTL on this member (the leader). */
  leaseTimeToLive: (id: bigint) => Promise<{ ttl: number; grantedTtl: number }>;
  /** A learner promotion a follower forwarded. */
  promoteMember: (id: bigint) => Promise<void>;
  /** The strict reconfig check a follower forwarded; throws etcd's error when the change is refused. */
  checkReconfig: (change: ReconfigChange) => Promise<void>;
  tls: PeerTlsOptions | undefined;
  /** --peer-client-cert-auth: peers must present a certificate the trusted CA signed. */
  clientCertAuth: boolean;
  /** The largest message batch frame a raft stream may carry. */
  maxBodyBytes: number;
  logger: Logger;
}

export interface PeerListener {
  /** The bound address (port 0 resolved). */
  url: string;
  close(): Promise<void>;
}

/**
 * The peer listener: POST /raft/stream takes a peer's stream of raft message batches (refused
 * with 412 when the sender names another cluster ID), POST /raft/snapshot a MsgSnap with the backend streamed, POST /leases/renew/<id> and /members/promote/<id> run
 * what a follower forwarded to the leader, GET /members tells a joining member who is in the cluster.
 */
export async function listenPeer(url: URL, options: PeerServerOptions): Promise<PeerListener> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => handle(req, res, options);
  const server =
    url.protocol === 'https:'
      ? https.createServer({ ...options.tls, requestCert: options.clientCertAuth, rejectUnauthorized: options.clientCertAuth }, handler)
      : http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  // A raft stream is one request for as long as both members run.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(
        new StrataError(
          'STRATA_PEER_LISTEN',
          `Cannot listen on --listen-peer-urls ${url.href}: ${err.code === 'EADDRINUSE' ? 'address already in use' : errorMessage(err)}; free the port or pick another`,
        ),
      );
    server.once('error', onError);
    server.listen(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : Number(url.port);
  return {
    url: `${url.protocol}//${url.hostname}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, options: PeerServerOptions): void {
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'GET' && path === MEMBERS_PATH) {
    res.writeHead(200, { 'content-type': 'application/json', [CLUSTER_ID_HEADER]: formatId(options.clusterId()) });
    res.end(JSON.stringify({ clusterId: options.clusterId().toString(), members: options.members().map(memberToJson) }));
    return;
  }
  const forwarded = forwardedCall(path ?? '', options);
  if (req.method !== 'POST' || (path !== RAFT_STREAM_PATH && path !== SNAPSHOT_PATH && forwarded === undefined)) {
    res.writeHead(404).end(`no such peer endpoint ${req.method} ${path}\n`);
    return;
  }
  const theirs = req.headers[CLUSTER_ID_HEADER];
  const ours = formatId(options.clusterId());
  if (theirs !== ours) {
    options.logger.warn('refused a peer request from another cluster', { 'remote-cluster-id': theirs, 'local-cluster-id': ours });
    res.writeHead(412).end(`cluster ID mismatch: this member is in cluster ${ours}, the sender in ${String(theirs)}\n`);
    return;
  }
  const from = req.headers[FROM_HEADER];
  const validFrom = typeof from === 'string' && /^[0-9a-f]{1,16}$/.test(from);
  if (validFrom && options.isRemoved(BigInt(`0x${from}`))) {
    req.resume();
    res.writeHead(REMOVED_STATUS).end(`${MEMBER_REMOVED_MESSAGE}\n`);
    return;
  }
  if (forwarded !== undefined) {
    req.resume();
    forwarded().then(
      (body) => res.writeHead(200).end(body),
      (err: unknown) => {
        if (err instanceof EtcdError) res.writeHead(ETCD_ERROR_STATUS).end(err.etcdName);
        else res.writeHead(500).end(`${errorMessage(err)}\n`);
      },
    );
    return;
  }
  if (path === SNAPSHOT_PATH) {
    receiveSnapshot(req, res, options);
    return;
  }
  if (!validFrom) {
    req.resume();
    res.writeHead(400).end(`a raft stream needs the sending member's ID in ${FROM_HEADER}\n`);
    return;
  }
  receiveStream(req, res, BigInt(`0x${from}`), options);
}

/**
 * A peer's message stream: accepted with 200 at once, then every frame's batch is stepped as it
 * completes. The stream ends when it breaks the framing or its sender is removed from the
 * cluster (the sender then reconnects and is answered 410).
 */
function receiveStream(req: http.IncomingMessage, res: http.ServerResponse, from: bigint, options: PeerServerOptions): void {
  req.socket.setKeepAlive(true, PEER_TCP_KEEPALIVE_MS);
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  res.flushHeaders();
  const decoder = new FrameDecoder(options.maxBodyBytes);
  // Just checked, when the stream was accepted.
  let removalCheckedAt = Date.now();
  const onData = (chunk: Buffer): void => {
    let batches: Message[][];
    try {
      batches = decoder.push(chunk);
    } catch (err) {
      options.logger.warn('ending a peer stream that sent an undecodable frame', { member: formatId(from), error: errorMessage(err) });
      req.off('data', onData);
      res.end();
      req.destroy();
      return;
    }
    // Whether the sender was removed is a backend query: asked once in a while, not per chunk.
    if (batches.length > 0 && Date.now() - removalCheckedAt >= REMOVAL_CHECK_MS) {
      removalCheckedAt = Date.now();
      if (options.isRemoved(from)) {
        req.off('data', onData);
        res.end();
        return;
      }
    }
    for (const messages of batches) {
      try {
        options.onMessages(messages);
      } catch (err) {
        options.logger.warn('cannot step raft messages from a peer', { member: formatId(from), error: errorMessage(err) });
      }
    }
  };
  req.on('data', onData);
  req.on('end', () => res.end());
}

function receiveSnapshot(req: http.IncomingMessage, res: http.ServerResponse, options: PeerServerOptions): void {
  let snap: ReturnType<typeof snapshotMessageOf>;
  try {
    snap = snapshotMessageOf(req.headers);
  } catch (err) {
    snap = undefined;
    options.logger.warn('cannot decode a snapshot message from a peer', { error: errorMessage(err) });
  }
  if (snap === undefined) {
    req.resume();
    res.writeHead(400).end('snapshot POST without a MsgSnap or backend size\n');
    return;
  }
  options.onSnapshot(snap.message, snap.dbSize, req).then(
    () => res.writeHead(204).end(),
    (err: unknown) => {
      options.logger.warn('cannot receive a snapshot from a peer', { error: errorMessage(err) });
      if (!res.headersSent) res.writeHead(500).end(`${errorMessage(err)}\n`);
      req.destroy();
    },
  );
}

/** The forwarded request a path names (`<prefix>/<decimal id>`), ready to run. */
function forwardedCall(path: string, options: PeerServerOptions): (() => Promise<string>) | undefined {
  const idAfter = (prefix: string): bigint | undefined => {
    const rest = path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : '';
    return /^[0-9]{1,20}$/.test(rest) ? BigInt(rest) : undefined;
  };
  const lease = idAfter(LEASE_RENEW_PATH);
  if (lease !== undefined) return async () => String(await options.renewLease(lease));
  const ttlOf = idAfter(LEASE_TTL_PATH);
  if (ttlOf !== undefined) {
    return async () => {
      const { ttl, grantedTtl } = await options.leaseTimeToLive(ttlOf);
      return `${ttl} ${grantedTtl}`;
    };
  }
  const member = idAfter(MEMBER_PROMOTE_PATH);
  if (member !== undefined) return async () => (await options.promoteMember(member), '');
  const removed = idAfter(`${RECONFIG_CHECK_PATH}/remove`);
  const adding = ['add-voter', 'add-learner'].find((kind) => path === `${RECONFIG_CHECK_PATH}/${kind}`);
  const change: ReconfigChange | undefined =
    removed !== undefined ? { kind: 'remove', id: removed } : adding !== undefined ? { kind: 'add', isLearner: adding === 'add-learner' } : undefined;
  if (change !== undefined) return async () => (await options.checkReconfig(change), '');
  return undefined;
}
