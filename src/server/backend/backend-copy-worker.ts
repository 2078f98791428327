import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * The thread behind copyBackendFile: its own read-only connection copies the backend with
 * VACUUM INTO, which reads one consistent snapshot while the member keeps committing.
 * A failure is thrown, which the parent hears as the worker's 'error'.
 */
const { source, target } = workerData as { source: string; target: string };
const db = new Database(source, { readonly: true, fileMustExist: true });
try {
  db.pragma('busy_timeout = 5000');
  db.prepare('VACUUM INTO ?').run(target);
} finally {
  db.close();
}
