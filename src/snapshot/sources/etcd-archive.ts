import { ArchiveWriter, idToHex, type ArchiveSource } from '../../archive/index.js';
import type { Logger } from '../../util/log.js';
import type { ArchiveStream } from './archive-stream.js';
import { writerStream } from './archive-stream.js';
import type { EtcdSnapshot } from './etcd-snapshot.js';

/**
 * An archive of an etcd backend image: its history as compaction leaves it (every revision
 * above the compact revision; at or below it each key's newest revision when a put), its
 * leases and members. Reads the image twice only when it was taken while a compaction was
 * still deleting (see EtcdSnapshot.history). `release` runs at the end either way.
 */
export async function etcdImageArchive(
  image: EtcdSnapshot,
  options: { toolVersion: string; source: Omit<ArchiveSource, 'members'>; level?: number; logger: Logger; release: () => Promise<void> },
): Promise<ArchiveStream> {
  const { revision, compactRevision } = image;
  const writer = new ArchiveWriter({
    manifest: {
      toolVersion: options.toolVersion,
      source: {
        ...options.source,
        members: image.members.map((m) => ({ id: idToHex(m.id), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner })),
      },
      revision,
      compactRevision,
    },
    logger: options.logger,
    ...(options.level !== undefined ? { level: options.level } : {}),
  });
  return writerStream(
    writer,
    async () => {
      for await (const batch of image.history()) {
        await writer.writeRecords(batch.map((r) => ({ main: r.main, sub: r.sub, tombstone: r.tombstone, kv: r.kv, kvBytes: r.value })));
      }
      for (const lease of image.leases) {
        await writer.writeLease({ id: lease.id, grantedTtl: lease.ttl, remainingTtl: lease.remainingTtl > 0 ? lease.remainingTtl : lease.ttl });
      }
    },
    options.release,
  );
}
