import { readFileSync } from 'node:fs';
import { UsageError, errorMessage } from './errors.js';

/**
 * Values named by command-line flags, read the same way by the server (etcd's flags) and the
 * client commands (etcdctl's flags), so a mistake reads the same whichever tool made it.
 */

/** Go's flag booleans: true/1/t and false/0/f (any case); empty means true (a bare --flag). */
export function parseFlagBool(flag: string, text: string): boolean {
  if (text === '' || /^(true|1|t)$/i.test(text)) return true;
  if (/^(false|0|f)$/i.test(text)) return false;
  throw new UsageError(`Invalid ${flag} '${text}': expected true or false`);
}

/** Reads a file a flag names (a certificate, a key); a failure names the flag, the file and why. */
export function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : errorMessage(err);
    throw new UsageError(`Cannot read ${flag} '${path}': ${why}; check the path and its permissions`);
  }
}
