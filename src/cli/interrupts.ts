import { removeInterruptedWork } from '../util/temp-files.js';
import { CLEAR_LINE } from './progress.js';

/** 128 + the signal's number: what a shell reports for a process the signal ended. */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

let installed = false;

/**
 * For commands that make temporary files (a spooled etcd image as large as the database, an
 * archive's `.part`, spill files, a reading thread's directory): on SIGINT or SIGTERM (Ctrl-C,
 * a cron or systemd timeout) remove them, say so in one line and exit with 130 or 143. Without
 * this Node ends at once, and every interrupted save of a 1 GiB etcd left its 1.3 GiB spool in
 * TMPDIR. A second signal ends the process at once, as Node's default does.
 */
export function removeTemporaryFilesOnInterrupt(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // A count would mislead: one registered path may be a directory of many files.
      const removed = removeInterruptedWork() > 0 ? '; its temporary files are removed' : '';
      // A progress bar may be on the line.
      process.stderr.write(`${process.stderr.isTTY ? CLEAR_LINE : ''}Error: interrupted by ${signal}${removed}\n`);
      process.exit(EXIT_CODES[signal]);
    });
  }
}
