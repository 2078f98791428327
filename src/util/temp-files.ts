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

/** Where and when state that outgrows memory goes to temporary files. */
export interface SpillOptions {
  /** What the work is, for errors: "verify 'x.tar.zst'". */
  purpose: string;
  /** How much memory the state may take before it goes to disk. */
  memoryBytes?: number | undefined;
  /** Where the temporary files go: os.tmpdir() (TMPDIR) by default. */
  directory?: string | undefined;
}

/** SpillOptions where the user of a spilling structure supplies its own default `purpose`. */
export type SpillSettings = Omit<SpillOptions, 'purpose'> & { purpose?: string | undefined };

/** A new private directory (0700) under `parent`, os.tmpdir() (TMPDIR) by default. */
export function makeTempDirectory(purpose: string, prefix: string, parent = tmpdir()): string {
  return tempFileWork(purpose, parent, () => mkdtempSync(join(parent, prefix)));
}

/** Writes all of `bytes` at the file's position, looping over short writes. */
export function writeFullySync(fd: number, bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
}
