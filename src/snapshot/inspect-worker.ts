/**
 * The worker side of inspectInThread (inspect-thread.ts): opens the store named in workerData,
 * runs verify or status, and posts the bytes read, then the result or the error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { inspectLocation } from './inspect.js';
import { serializeError, type InspectJob, type InspectMessage } from './inspect-thread.js';

/** The bytes read are posted every this many (and once at the end): the bar redraws far less often than chunks arrive. */
const REPORT_EVERY_BYTES = 1024 * 1024;

const job = workerData as InspectJob;
const post = (message: InspectMessage): void => parentPort!.postMessage(message);

let read: { bytes: number; total: number | undefined } | undefined;
let reported = 0;
const report = (): void => {
  if (read === undefined || read.bytes === reported) return;
  reported = read.bytes;
  post({ type: 'bytes', ...read });
};
const onBytes = (bytes: number, total: number | undefined): void => {
  read = { bytes, total };
  if (bytes - reported >= REPORT_EVERY_BYTES) report();
};

// The answer goes last, once the store is closed: the main thread ends the worker on it.
const answer = await inspectLocation(job.kind, job.location, { s3: job.s3 }, { onBytes }).then(
  (result): InspectMessage => ({ type: 'done', result }),
  (err: unknown): InspectMessage => ({ type: 'error', error: serializeError(err) }),
);
report();
post(answer);
