/**
 * Typed errors with stable codes (modelled on undici): every failure a user can cause or
 * meet carries a code that scripts may match, a one-line message that names the thing
 * and the fix, and the process exit code the CLI should use.
 */

/** Process exit codes; documented in the README. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  integrity: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class StrataError extends Error {
  override readonly name: string = 'StrataError';
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, options: { exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
}

/** A wrong flag, argument or configuration value: exit 2. */
export class UsageError extends StrataError {
  override readonly name = 'UsageError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STRATA_USAGE', message, { ...options, exitCode: ExitCode.usage });
  }
}

/** Data that fails a checksum, an invariant or a format check: exit 3. */
export class IntegrityError extends StrataError {
  override readonly name = 'IntegrityError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STRATA_INTEGRITY', message, { ...options, exitCode: ExitCode.integrity });
  }
}

export function isStrataError(err: unknown): err is StrataError {
  return err instanceof StrataError;
}

/** The message of anything thrown, for one-line reports. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
