import { open } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { ArchiveReader, idToHex } from '../../archive/index.js';
import { IntegrityError, StrataError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { scratchFile } from '../../util/temp-files.js';
import { writevFully } from '../../util/writev-fully.js';
import type { ArchiveStream } from './archive-stream.js';
import { etcdImageArchive } from './etcd-archive.js';
import { openEtcdSnapshot } from './etcd-snapshot.js';
import { TrailerHasher } from './sha256-trailer.js';
import type { PickedMember } from './pick-member.js';
import { peek } from '../peek.js';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
/** bbolt's first page carries its magic at byte 32 (page header 16 + meta offset 16). */
const BBOLT_HEAD = 64;

export interface LiveOptions {
  toolVersion: string;
  endpoints: string[];
  level?: number;
  logger: Logger;
  /** Bytes of an etcd image received so far while it is spooled, and its size when etcd announced it. */
  onReceived?: (bytes: number, total: number | undefined) => void;
}

/**
 * Maintenance.Snapshot of the picked member: the bundled server's archive passes through,
 * verified as it streams; etcd's bbolt image is spooled to a 0600 temp file (removed after),
 * its SHA-256 trailer checked, and rewritten as an archive.
 */
export async function liveArchive(member: PickedMember, options: LiveOptions): Promise<ArchiveStream> {
  let size: number | undefined;
  const stream = await member.client.snapshot({ onSize: (bytes) => (size = bytes) });
  const { head, rest: restIterable } = await peek(stream, BBOLT_HEAD);
  const rest = restIterable[Symbol.asyncIterator]();
  if (head.length === 0) throw new IntegrityError(`Snapshot stream from ${member.endpoint} is empty: check the server's log`);
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return passThrough(rest, member, options);
  return spoolEtcdImage(rest, member, options, () => size);
}

async function passThrough(rest: AsyncIterator<Buffer>, member: PickedMember, options: LiveOptions): Promise<ArchiveStream> {
  // The store side may start reading only once the manifest is known: let it lag a little.
  const toStore = new PassThrough({ highWaterMark: 8 * 1024 * 1024 });
  const toReader = new PassThrough();
  let stopped: Error | undefined;
  const pump = (async () => {
    for (;;) {
      const next = await rest.next();
      if (next.done === true || stopped !== undefined) break;
      const a = toStore.write(next.value);
      const b = toReader.write(next.value);
      if (!a) await new Promise((r) => toStore.once('drain', r));
      if (!b) await new Promise((r) => toReader.once('drain', r));
    }
    toStore.end();
    toReader.end();
  })();
  pump.catch((err: unknown) => {
    toReader.destroy(err as Error);
    toStore.destroy(err as Error);
  });
  const reader = await ArchiveReader.open(toReader, { label: `Maintenance.Snapshot of ${member.endpoint}` });
  const done = (async () => {
    const result = await reader.finish();
    await pump;
    return { manifest: result.manifest, trailer: result.trailer, sha256: result.sha256, bytes: result.bytes };
  })();
  done.catch(() => undefined);
  options.logger.info('the server streams an archive: passing it through, verified', { endpoint: member.endpoint });
  return {
    manifest: reader.manifest,
    output: toStore,
    done,
    cancel: (reason) => {
      stopped = reason;
      reader.close();
      void rest.return?.();
    },
  };
}

/** etcd sends its image in messages of 32 KiB or less; one write per message cost about 1 s per 400 MB. */
const SPOOL_WRITE_BYTES = 1024 * 1024;

/**
 * Writes the stream to `path` in gathered writes of about `bytes` (writev, so the messages are
 * not copied into one buffer first), hashing each message on its way: the main thread idles
 * while etcd sends.
 */
async function spoolTo(path: string, source: AsyncIterator<Buffer>, bytes: number, hasher: TrailerHasher, onReceived?: (bytes: number) => void): Promise<void> {
  const file = await open(path, 'wx', 0o600);
  try {
    let parts: Buffer[] = [];
    let held = 0;
    let received = 0;
    const flush = async (): Promise<void> => {
      await writevFully(file, parts);
      parts = [];
      held = 0;
    };
    for (let next = await source.next(); next.done !== true; next = await source.next()) {
      hasher.update(next.value);
      parts.push(next.value);
      held += next.value.length;
      received += next.value.length;
      onReceived?.(received);
      if (held >= bytes) await flush();
    }
    await flush();
  } finally {
    await file.close();
  }
}

async function spoolEtcdImage(rest: AsyncIterator<Buffer>, member: PickedMember, options: LiveOptions, size: () => number | undefined): Promise<ArchiveStream> {
  const { path: spool, remove: release } = scratchFile('strata-etcd-snapshot', '.db');
  try {
    options.logger.info('the server streams a bbolt image: spooling it to a temporary file', { endpoint: member.endpoint });
    const hasher = new TrailerHasher();
    const onReceived = options.onReceived;
    await spoolTo(spool, rest, SPOOL_WRITE_BYTES, hasher, onReceived && ((bytes) => onReceived(bytes, size())));
    const image = await openEtcdSnapshot(spool, { name: `Maintenance.Snapshot of ${member.endpoint}`, contentSha256: hasher.digest() });
    if (image.sha256 === undefined) {
      await image.close();
      throw new IntegrityError(`Snapshot stream from ${member.endpoint} has no SHA-256 trailer: it was cut short; run the save again`);
    }
    return await etcdImageArchive(image, {
      toolVersion: options.toolVersion,
      source: {
        kind: 'etcd',
        endpoints: options.endpoints,
        endpoint: member.endpoint,
        clusterId: idToHex(member.clusterId),
        memberId: idToHex(member.memberId),
        serverVersion: member.serverVersion,
      },
      logger: options.logger,
      ...(options.level !== undefined ? { level: options.level } : {}),
      release: async () => {
        await image.close();
        await release();
      },
    });
  } catch (err) {
    await release();
    throw err instanceof StrataError ? err : new StrataError('STRATA_SPOOL', `Cannot spool the snapshot of ${member.endpoint} to '${spool}': ${(err as Error).message}`, { cause: err });
  }
}
