import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointReply, CheckpointRequest } from './checkpointer.js';

/**
 * The thread behind Checkpointer: its own connection copies the SQLite WAL into the database
 * file every `intervalMs`, and at once when asked, fsyncs included, off the member's event loop.
 */
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const port = parentPort;
if (port === null) throw new Error('checkpoint-worker must run in a worker thread');
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');

function checkpoint(): string | undefined {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const timer = setInterval(() => {
  const failure = checkpoint();
  if (failure !== undefined) port.postMessage({ kind: 'periodic-failed', message: failure } satisfies CheckpointReply);
}, intervalMs);

port.on('message', (request: CheckpointRequest) => {
  if (request === 'checkpoint') {
    const failure = checkpoint();
    port.postMessage((failure === undefined ? { kind: 'done' } : { kind: 'failed', message: failure }) satisfies CheckpointReply);
    return;
  }
  clearInterval(timer);
  db.close();
  port.close();
});
