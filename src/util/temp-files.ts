import { mkdtempSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrataError, errorMessage } from './errors.js';

/**
 * Runs synchronous file work for state that did not fit in memory, turning a failure (a full
 * disk, above all) into one line that names the work, the directory and the fix.
 */
export function tempFileWork<T>(purpose: string, directory: string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    throw new StrataError(
      'STRATA_TEMP_FILES',
      `Cannot ${purpose}: what did not fit in memory goes to temporary files in '${directory}', and writing them failed (${errorMessage(err)}); set TMPDIR to a directory with room`,
      { cause: err },
    );
  }
}

/** A new private directory (0700) under `parent`, os.tmpdir() (TMPDIR) by default. */
export function makeTempDirectory(purpose: string, prefix: string, parent = tmpdir()): string {
  return tempFileWork(purpose, parent, () => mkdtempSync(join(parent, prefix)));
}

/** Writes all of `bytes` at the file's position, looping over short writes. */
export function writeFullySync(fd: number, bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
}
