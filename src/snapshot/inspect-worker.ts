/**
 * The worker side of inspectInThread (inspect-thread.ts): opens the store named in workerData,
 * runs verify or status, and posts the bytes read, then the result or the error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { snapshotStatus, verifySnapshot } from './inspect.js';
import { serializeError, type InspectJob, type InspectMessage } from './inspect-thread.js';
import { closeStore, openStore } from './stores/open-store.js';

const job = workerData as InspectJob;
const post = (message: InspectMessage): void => parentPort!.postMessage(message);

async function inspect(): Promise<InspectMessage> {
  const store = await openStore(job.location, { s3: job.s3 });
  try {
    const onBytes = (bytes: number, total: number | undefined): void => post({ type: 'bytes', bytes, total });
    return { type: 'done', result: job.kind === 'verify' ? await verifySnapshot(store, { onBytes }) : await snapshotStatus(store, { onBytes }) };
  } finally {
    closeStore(store);
  }
}

// The answer goes last, once the store is closed: the main thread ends the worker on it.
post(await inspect().catch((err: unknown): InspectMessage => ({ type: 'error', error: serializeError(err) })));
