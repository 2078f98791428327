import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArchiveManifest, ArchiveTrailer } from '../archive/index.js';
import { isStrataError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { fileError } from './stores/local-store.js';
import type { ArchiveStream } from './sources/archive-stream.js';
import { RangeCompactedError } from './sources/range-source.js';
import { snapshotName } from './stores/snapshot-name.js';
import type { SnapshotStore } from './stores/store.js';

export interface SaveResult {
  location: string;
  sha256: string;
  bytes: number;
  manifest: ArchiveManifest;
  trailer: ArchiveTrailer;
}

export interface SaveOptions {
  logger: Logger;
  /** Called with the bytes written so far and, when the source can tell, how much of it was read (0..1). */
  onBytes?: (bytes: number, fraction: number | undefined) => void;
}

function counter(onBytes: SaveOptions['onBytes'], fraction: (() => number) | undefined): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      total += chunk.length;
      onBytes?.(total, fraction?.());
      callback(null, chunk);
    },
  });
}

/**
 * Source ──archive bytes──▶ store, with backpressure end to end. Nothing is committed unless
 * the source finished and checked out; any failure aborts the store writer (no file that looks
 * complete). A range read whose revision got compacted starts once more, then fails.
 */
export async function saveSnapshot(store: SnapshotStore, source: () => Promise<ArchiveStream>, options: SaveOptions): Promise<SaveResult> {
  await store.preflight?.();
  for (let attempt = 1; ; attempt++) {
    try {
      return await saveOnce(store, await source(), options);
    } catch (err) {
      if (!(err instanceof RangeCompactedError) || attempt > 1) throw err;
      options.logger.warn('the pinned revision was compacted during the read; starting once more at a new revision', {});
    }
  }
}

async function saveOnce(store: SnapshotStore, archive: ArchiveStream, options: SaveOptions): Promise<SaveResult> {
  const { manifest } = archive;
  const name = snapshotName(manifest.source.clusterId, new Date(manifest.createdAt), manifest.revision);
  let writer;
  try {
    writer = await store.createWriter(name);
  } catch (err) {
    archive.cancel(err as Error);
    throw err;
  }
  try {
    const [summary] = await Promise.all([archive.done, pipeline(archive.output, counter(options.onBytes, archive.progress), writer.stream)]);
    const location = await writer.commit(summary.sha256);
    return { location, sha256: summary.sha256, bytes: summary.bytes, manifest: summary.manifest, trailer: summary.trailer };
  } catch (err) {
    archive.cancel(err as Error);
    await writer.abort(err);
    throw isStrataError(err) || (err as NodeJS.ErrnoException).code === undefined ? err : fileError('write snapshot to', store.location, err);
  }
}
