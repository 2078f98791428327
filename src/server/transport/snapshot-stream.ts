import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Message } from '../../raft/index.js';
import { decodeMessages, encodeMessages } from './message-codec.js';
import { CLUSTER_ID_HEADER, FROM_HEADER, SNAPSHOT_DB_SIZE_HEADER, SNAPSHOT_MESSAGE_HEADER, SNAPSHOT_PATH } from './peer-headers.js';
import { writeFully } from '../wal/durable-fs.js';

/**
 * A raft snapshot on the wire, as etcd streams one: POST /raft/snapshot with the MsgSnap (its
 * metadata only) in a header and the backend file as the body, followed by the SHA-256 of the
 * backend bytes. Neither side holds the backend in memory.
 */
const HASH_BYTES = 32;

export interface SnapshotPost {
  url: string;
  message: Message;
  dbPath: string;
  clusterId: string;
  from: string;
  agent: http.Agent | https.Agent;
  /** No progress for this long fails the transfer. */
  idleTimeoutMs: number;
}

/** Streams `dbPath` with `message` to the peer at `url`; resolves once the peer has stored it. */
export async function postSnapshot(post: SnapshotPost): Promise<void> {
  const size = (await stat(post.dbPath)).size;
  const target = new URL(SNAPSHOT_PATH, post.url);
  const secure = target.protocol === 'https:';
  const req = (secure ? https : http).request(target, {
    method: 'POST',
    agent: post.agent,
    timeout: post.idleTimeoutMs,
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': size + HASH_BYTES,
      [CLUSTER_ID_HEADER]: post.clusterId,
      [FROM_HEADER]: post.from,
      [SNAPSHOT_MESSAGE_HEADER]: encodeMessages([post.message]).toString('base64'),
      [SNAPSHOT_DB_SIZE_HEADER]: String(size),
    },
  });
  const answered = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 204) resolve();
        else reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').trim()}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.on('timeout', () => req.destroy(new Error(`snapshot transfer stalled for ${post.idleTimeoutMs} ms`)));
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      done(null, hash.digest());
    },
  });
  await Promise.all([pipeline(createReadStream(post.dbPath), hashing, req), answered]);
}

/** The MsgSnap a snapshot POST carries, or undefined when the headers do not hold one. */
export function snapshotMessageOf(headers: http.IncomingHttpHeaders): { message: Message; dbSize: number } | undefined {
  const encoded = headers[SNAPSHOT_MESSAGE_HEADER];
  const size = Number(headers[SNAPSHOT_DB_SIZE_HEADER]);
  if (typeof encoded !== 'string' || !Number.isSafeInteger(size) || size < 0) return undefined;
  const [message] = decodeMessages(Buffer.from(encoded, 'base64'));
  return message?.snapshot ? { message, dbSize: size } : undefined;
}

/**
 * Writes the backend a snapshot POST streams into `path` (created; removed again on any
 * failure), checks its SHA-256, and fsyncs it.
 */
export async function receiveSnapshotBody(body: AsyncIterable<Buffer>, dbSize: number, path: string): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    const hash = createHash('sha256');
    const trailer: Buffer[] = [];
    let written = 0;
    for await (const chunk of body) {
      const part = chunk.subarray(0, Math.max(0, dbSize - written));
      if (part.length > 0) {
        hash.update(part);
        await writeFully(handle, part, written);
        written += part.length;
      }
      if (part.length < chunk.length) trailer.push(chunk.subarray(part.length));
    }
    const expected = Buffer.concat(trailer);
    if (written !== dbSize || expected.length !== HASH_BYTES) {
      throw new Error(`snapshot body ended after ${written + expected.length} of ${dbSize + HASH_BYTES} bytes`);
    }
    if (!hash.digest().equals(expected)) throw new Error('snapshot backend SHA-256 mismatch');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await handle.close();
}
