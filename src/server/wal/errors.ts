import { ExitCode, StrataError } from '../../util/errors.js';

/** A WAL segment that cannot be trusted; the server must not start on it. */
export class WalCorruptError extends StrataError {
  override readonly name = 'WalCorruptError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      'STRATA_WAL_CORRUPT',
      `WAL segment '${file}' is corrupt at byte ${offset}: ${reason}; restore from a snapshot or move the data dir aside`,
      { exitCode: ExitCode.integrity },
    );
  }
}
