import { once } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { Readable } from 'node:stream';
import type { Logger } from '../../util/log.js';
import type { EtcdServerApi } from './server-api.js';
import { toServiceError } from './service-error.js';

/** etcd sends its image in messages of at most this size; so do we. */
const MAX_BLOB = 4 * 1024 * 1024;

/**
 * Maintenance.Snapshot: streams the server's archive (one consistent backend read) as
 * SnapshotResponse messages, writing the next only once the client has taken the last
 * (call.write's return and 'drain'). remaining_bytes is 0: a streamed archive's size is only
 * known at its end. A client that goes away stops the read.
 */
export async function streamSnapshot(call: grpc.ServerWritableStream<unknown, unknown>, server: EtcdServerApi, logger: Logger): Promise<void> {
  let snapshot: ReturnType<EtcdServerApi['snapshotArchive']>;
  try {
    snapshot = server.snapshotArchive();
  } catch (err) {
    call.destroy(Object.assign(new Error('snapshot'), toServiceError(err, logger)));
    return;
  }
  const { output, revision, done, cancel } = snapshot;
  let cancelled = false;
  call.once('cancelled', () => {
    cancelled = true;
    cancel(new Error('the client cancelled the snapshot'));
  });
  const header = server.header(revision);
  let first = true;
  try {
    for await (const chunk of output as Readable & AsyncIterable<Buffer>) {
      for (let at = 0; at < chunk.length; at += MAX_BLOB) {
        if (cancelled) return;
        const blob = chunk.subarray(at, at + MAX_BLOB);
        const ok = call.write({ header: first ? header : null, remaining_bytes: '0', blob });
        first = false;
        if (!ok) await Promise.race([once(call, 'drain'), once(call, 'close')]);
      }
    }
    await done;
    if (first) call.write({ header, remaining_bytes: '0', blob: Buffer.alloc(0) });
    call.end();
  } catch (err) {
    if (cancelled) return;
    cancel(err as Error);
    call.destroy(Object.assign(new Error('snapshot'), toServiceError(err, logger)));
  }
}
