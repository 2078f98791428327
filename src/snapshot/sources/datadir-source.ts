import { resolve } from 'node:path';
import { archiveDataDir, openDataDirReader } from '../../server/datadir-reader.js';
import type { Logger } from '../../util/log.js';
import type { ArchiveStream } from './archive-stream.js';

/** An archive of a bundled server's data dir, read-only and at one revision (a server may run on it). */
export function dataDirArchive(dataDir: string, options: { toolVersion: string; level?: number; logger: Logger }): ArchiveStream {
  const view = openDataDirReader(dataDir, { logger: options.logger });
  const { writer, done } = archiveDataDir(view, {
    toolVersion: options.toolVersion,
    source: { kind: 'data-dir', dataDir: resolve(dataDir) },
    logger: options.logger,
    ...(options.level !== undefined ? { level: options.level } : {}),
  });
  return { manifest: writer.manifest, output: writer.output, done, cancel: (reason) => writer.abort(reason), progress: () => writer.progress };
}
