import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { checkpointWal, type CheckpointMode, type CheckpointReply, type CheckpointRequest } from './checkpointer.js';

/**
 * The thread behind Checkpointer: its own connection copies the SQLite WAL into the database
 * file every `intervalMs`, and at once when asked (emptying the WAL file too after a
 * defragment), fsyncs included, off the member's event loop. Requests and the timer take turns
 * on this one thread, so no two checkpoints ever overlap.
 */
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const port = parentPort;
if (port === null) throw new Error('checkpoint-worker must run in a worker thread');
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');

function checkpoint(mode: CheckpointMode): string | undefined {
  try {
    return checkpointWal(db, mode);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const timer = setInterval(() => {
  const failure = checkpoint('passive');
  if (failure !== undefined) port.postMessage({ kind: 'periodic-failed', message: failure } satisfies CheckpointReply);
}, intervalMs);

port.on('message', (request: CheckpointRequest) => {
  if (request.kind === 'checkpoint') {
    const failure = checkpoint(request.mode);
    port.postMessage((failure === undefined ? { kind: 'done' } : { kind: 'failed', message: failure }) satisfies CheckpointReply);
    return;
  }
  clearInterval(timer);
  db.close();
  port.close();
});
