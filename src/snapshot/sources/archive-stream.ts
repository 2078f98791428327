import type { Readable } from 'node:stream';
import type { ArchiveManifest, ArchiveTrailer, ArchiveWriter } from '../../archive/index.js';

/** What save needs to know once an archive was written or checked. */
export interface ArchiveSummary {
  manifest: ArchiveManifest;
  trailer: ArchiveTrailer;
  sha256: string;
  bytes: number;
}

/**
 * An archive on its way out of a source: `manifest` is known up front (it names the file),
 * `output` must be read while `done` settles; `cancel` stops the source and releases it.
 */
export interface ArchiveStream {
  manifest: ArchiveManifest;
  output: Readable;
  done: Promise<ArchiveSummary>;
  cancel(reason: Error): void;
  /** How much of the source has been read, 0..1, when the source can tell (for an ETA). */
  progress?: () => number;
}

/** Feeds `writer` with `produce` and finishes it; `release` runs whatever happens. */
export function writerStream(writer: ArchiveWriter, produce: () => Promise<void>, release: () => Promise<void> | void): ArchiveStream {
  const done = (async () => {
    try {
      await produce();
      return await writer.finish();
    } catch (err) {
      writer.abort(err as Error);
      throw err;
    } finally {
      await release();
    }
  })();
  done.catch(() => undefined);
  return { manifest: writer.manifest, output: writer.output, done, cancel: (reason) => writer.abort(reason), progress: () => writer.progress };
}
