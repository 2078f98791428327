import { ArchiveWriter, idToHex, type ArchiveSource } from '../../archive/index.js';
import type { Logger } from '../../util/log.js';
import type { ArchiveStream } from './archive-stream.js';
import { writerStream } from './archive-stream.js';
import { scanKeep } from './etcd-hashkv.js';
import type { EtcdSnapshot } from './etcd-snapshot.js';

/**
 * An archive of an etcd backend image: its history as compaction leaves it (every revision
 * above the compact revision; at or below it each key's newest revision when a put), its
 * leases and members. Reads the image twice when it was compacted and the compaction may not
 * have finished. `release` runs at the end either way.
 */
export async function etcdImageArchive(
  image: EtcdSnapshot,
  options: { toolVersion: string; source: Omit<ArchiveSource, 'members'>; level?: number; logger: Logger; release: () => Promise<void> },
): Promise<ArchiveStream> {
  const { revision, compactRevision } = image;
  const keep = compactRevision > 0 ? await scanKeep(image.revisions(), compactRevision, compactRevision) : undefined;
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
      for await (const r of image.revisions()) {
        if (r.main > revision) break;
        if (keep && r.main <= compactRevision && !keep.kept.has(`${r.main}_${r.sub}`)) continue;
        await writer.writeRecord({ main: r.main, sub: r.sub, tombstone: r.tombstone, kv: r.kv, kvBytes: r.value });
      }
      for (const lease of image.leases) {
        await writer.writeLease({ id: lease.id, grantedTtl: lease.ttl, remainingTtl: lease.remainingTtl > 0 ? lease.remainingTtl : lease.ttl });
      }
    },
    options.release,
  );
}
