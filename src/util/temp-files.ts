import { mkdtempSync, rmSync, writeSync } from 'node:fs';
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

/**
 * The private directory of one spilling structure: made on first use (0700, under
 * `options.directory` or TMPDIR), every file operation in it turned by guard() into the
 * one-line error of tempFileWork, and removed whole by remove().
 */
export class SpillDirectory {
  private path: string | undefined;

  constructor(
    private readonly options: SpillOptions,
    private readonly prefix: string,
  ) {}

  /** Whether the directory was made (something went to disk). */
  get made(): boolean {
    return this.path !== undefined;
  }

  /** The path of `name` in the directory, which is made first if need be. */
  file(name: string): string {
    this.path ??= makeTempDirectory(this.options.purpose, this.prefix, this.options.directory);
    return join(this.path, name);
  }

  guard<T>(work: () => T): T {
    return tempFileWork(this.options.purpose, this.path ?? this.options.directory ?? tmpdir(), work);
  }

  /** Removes the directory and everything in it; safe to call more than once. */
  remove(): void {
    if (this.path !== undefined) rmSync(this.path, { recursive: true, force: true });
  }
}
