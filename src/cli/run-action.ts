import { ExitCode, errorMessage, isStrataError } from '../util/errors.js';

/** Set by the global --debug flag: show stack traces for failures. */
let debug = false;
export function setDebug(on: boolean): void {
  debug = on;
}

/**
 * Reports a failure as one line on stderr ("Error: ...") and returns the exit code the
 * process should end with. A user's mistake never prints a stack trace unless --debug.
 */
export function reportFailure(err: unknown): number {
  if (isStrataError(err)) {
    process.stderr.write(`Error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  process.stderr.write(`Error: ${errorMessage(err)}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('(an unexpected failure: run again with --debug for details)\n');
  return ExitCode.failed;
}

/** Wraps a command action so that any failure becomes one line and an exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.exitCode = reportFailure(err);
    }
  };
}
