import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrataError, errorMessage } from './errors.js';

/**
 * Files and directories that must not outlive the work that made them: a spooled etcd image (as
 * large as the database), an archive's `.part`, a spill directory. Each is registered while it
 * exists, so that a command stopped by SIGINT or SIGTERM (Ctrl-C, a cron timeout, a service
 * stop) removes them before it exits (src/cli/interrupts.ts); only SIGKILL leaves them.
 */
const interruptible = new Set<string>();

/** Registers `path` for removal if the process is interrupted; the returned function forgets it. */
export function removeIfInterrupted(path: string): () => void {
  interruptible.add(path);
  return () => void interruptible.delete(path);
}

/** Removes every registered path now, synchronously, for a process about to exit; returns how many there were. */
export function removeInterruptedWork(): number {
  const paths = [...interruptible];
  interruptible.clear();
  for (const path of paths) rmSync(path, { recursive: true, force: true });
  return paths.length;
}

/** A new file path under TMPDIR, registered with removeIfInterrupted; `remove` deletes the file and forgets it. */
export function scratchFile(prefix: string, extension: string): { path: string; remove: () => Promise<void> } {
  const path = join(tmpdir(), `${prefix}-${randomBytes(8).toString('hex')}${extension}`);
  const forget = removeIfInterrupted(path);
  return {
    path,
    remove: async () => {
      await rm(path, { force: true });
      forget();
    },
  };
}

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
  private forget: (() => void) | undefined;

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
    if (this.path === undefined) {
      this.path = makeTempDirectory(this.options.purpose, this.prefix, this.options.directory);
      this.forget = removeIfInterrupted(this.path);
    }
    return join(this.path, name);
  }

  guard<T>(work: () => T): T {
    return tempFileWork(this.options.purpose, this.path ?? this.options.directory ?? tmpdir(), work);
  }

  /** Removes the directory and everything in it; safe to call more than once. */
  remove(): void {
    if (this.path !== undefined) rmSync(this.path, { recursive: true, force: true });
    this.forget?.();
  }
}
