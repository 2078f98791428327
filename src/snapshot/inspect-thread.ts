import { rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { StrataError, errorMessage, isStrataError, type ExitCode } from '../util/errors.js';
import { makeTempDirectory, removeIfInterrupted } from '../util/temp-files.js';
import { inspectLocation, type InspectOptions, type InspectResults } from './inspect.js';
import type { OpenStoreOptions } from './stores/open-store.js';
import type { S3StoreOptions } from './stores/s3-store.js';

/**
 * V8's young generation for the reading thread, in MiB (the default grows to 32). Verify of an
 * archive of 3M small keys (1.16 GB of records) peaked at 198–214 MiB in the main thread and at
 * 165 MiB here in the same time; the bench's 1 GiB archive went from 150 to 127 MiB for about
 * 5% more time. Only a worker takes the limit: Node reads the flag at start-up alone.
 */
const YOUNG_GENERATION_MB = 12;

export interface InspectJob {
  kind: keyof InspectResults;
  location: string;
  s3: S3StoreOptions;
}

interface SerializedError {
  message: string;
  stack: string | undefined;
  strata: { name: string; code: string; exitCode: ExitCode } | undefined;
}

export type InspectMessage =
  | { type: 'bytes'; bytes: number; total: number | undefined }
  | { type: 'done'; result: InspectResults[keyof InspectResults] }
  | { type: 'error'; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  return {
    message: errorMessage(err),
    stack: err instanceof Error ? err.stack : undefined,
    strata: isStrataError(err) ? { name: err.name, code: err.code, exitCode: err.exitCode } : undefined,
  };
}

/** The error the worker met, as the main thread reports it: same message, code and exit code. */
function revive(error: SerializedError): Error {
  const { strata } = error;
  const revived = strata === undefined ? new Error(error.message) : new StrataError(strata.code, error.message, { exitCode: strata.exitCode });
  if (strata !== undefined) Object.defineProperty(revived, 'name', { value: strata.name });
  if (error.stack !== undefined) revived.stack = error.stack;
  return revived;
}

/**
 * `snapshot verify` or `status` of `location`, read on a worker thread with a small young
 * generation (YOUNG_GENERATION_MB): decoding millions of records makes short-lived garbage, and
 * the default young generation held tens of MiB of it. `-` (stdin) is read here, in this thread.
 */
export async function inspectInThread<K extends keyof InspectResults>(
  kind: K,
  location: string,
  storeOptions: OpenStoreOptions,
  options: InspectOptions = {},
): Promise<InspectResults[K]> {
  if (location === '-') return inspectLocation(kind, location, storeOptions, options);
  const job: InspectJob = { kind, location, s3: storeOptions.s3 ?? {} };
  // The thread's temporary files (a spooled etcd image, spill files) go into one directory this
  // thread registers: an interrupt, which only this thread hears, removes them all with it.
  const scratch = makeTempDirectory(`${kind} '${location}'`, 'strata-inspect-');
  const forgetScratch = removeIfInterrupted(scratch);
  const worker = new Worker(new URL('./inspect-worker.js', import.meta.url), {
    workerData: job,
    env: { ...process.env, TMPDIR: scratch },
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  try {
    return await new Promise<InspectResults[K]>((resolve, reject) => {
      worker.on('message', (message: InspectMessage) => {
        if (message.type === 'bytes') options.onBytes?.(message.bytes, message.total);
        else if (message.type === 'done') resolve(message.result as InspectResults[K]);
        else reject(revive(message.error));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new StrataError('STRATA_INSPECT_THREAD', `Cannot ${kind} '${location}': its reading thread stopped (exit code ${code}) before it finished`)));
    });
  } finally {
    await worker.terminate();
    await rm(scratch, { recursive: true, force: true });
    forgetScratch();
  }
}
