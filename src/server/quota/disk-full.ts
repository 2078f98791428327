import { StrataError } from '../../util/errors.js';

/** What the filesystem (ENOSPC, EDQUOT) or SQLite (SQLITE_FULL) says when a write finds no room. */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/**
 * The error a member stops with when a WAL or backend write met a full disk (looking through
 * `cause` chains), or undefined when `err` is about something else. What reached the disk
 * is sorted out at the next start (a torn WAL tail is cut, SQLite rolls back), so the fix
 * is to free space and start again.
 */
export function diskFullError(err: unknown, dataDir: string): StrataError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && DISK_FULL_CODES.has(code)) {
      return new StrataError(
        'STRATA_DISK_FULL',
        `Cannot write to data dir '${dataDir}': its disk is full (${code}); free space there and start the server again (acknowledged writes are kept)`,
        { cause: err },
      );
    }
  }
  return undefined;
}
