import { Worker } from 'node:worker_threads';
import { StrataError, errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { Backend } from './backend.js';
import { MemberStore, type StoredMember } from './members.js';
import { MetaKey, MetaStore } from './meta.js';

/** Which applied state a backend copy holds: the raft position a snapshot of it stands for. */
export interface BackendCopyPosition {
  /** The consistent index: the last raft entry applied in the copy. */
  index: number;
  /** The members as of that entry. */
  members: StoredMember[];
}

/** The raft position of the (closed) backend file at `path`: what it has applied, and its members then. */
export function readBackendPosition(path: string, logger: Logger): BackendCopyPosition {
  const backend = Backend.open(path, { readOnly: true, logger });
  try {
    return { index: new MetaStore(backend.db).getNumber(MetaKey.consistentIndex) ?? 0, members: new MemberStore(backend.db).list() };
  } finally {
    backend.close();
  }
}

/**
 * Copies the backend at `source` to the new file `target` on a worker thread, while the member
 * keeps applying entries: a leader copies its whole backend for each snapshot it sends, and a
 * multi-GiB copy on the event loop stopped its heartbeats long enough for an election. The copy
 * holds whatever was committed when it began, so its position is read from the copy itself.
 */
export async function copyBackendFile(source: string, target: string, logger: Logger): Promise<BackendCopyPosition> {
  await new Promise<void>((resolve, reject) => {
    const worker = new Worker(new URL('./backend-copy-worker.js', import.meta.url), { workerData: { source, target } });
    worker.once('error', (err) => reject(new StrataError('STRATA_BACKEND_COPY', `Cannot copy backend '${source}' to '${target}': ${errorMessage(err)}`, { cause: err })));
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new StrataError('STRATA_BACKEND_COPY', `Cannot copy backend '${source}': the copy thread exited with code ${code}`))));
  });
  return readBackendPosition(target, logger);
}
