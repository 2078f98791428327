import { open, readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../../util/crc32c.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { fsyncDir, writeFully } from './durable-fs.js';
import { readU64, writeU64 } from './u64.js';

/**
 * Raft snapshot files `member/snap/%016x-%016x.snap` (term, index): the snapshot's position
 * plus opaque bytes (the membership / conf state). Layout:
 *   MAGIC crc:u32le term:u64le index:u64le data
 * with the CRC-32C over everything after it. The backend itself is not in here.
 */
export interface SnapFile {
  term: number;
  index: number;
  data: Buffer;
}

const MAGIC = Buffer.from('STRSNAP\x01', 'latin1');
const FIXED_BYTES = MAGIC.length + 4 + 16;
const pattern = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function snapFileName(term: number, index: number): string {
  return `${term.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.snap`;
}

/** Writes `snap` into `dir` atomically (temp name, fsync, rename, fsync dir); returns its path. */
export async function saveSnapFile(dir: string, snap: SnapFile): Promise<string> {
  const bytes = Buffer.alloc(FIXED_BYTES + snap.data.length);
  MAGIC.copy(bytes, 0);
  writeU64(bytes, MAGIC.length + 4, snap.term);
  writeU64(bytes, MAGIC.length + 12, snap.index);
  Buffer.from(snap.data).copy(bytes, FIXED_BYTES);
  bytes.writeUInt32LE(crc32c(bytes.subarray(MAGIC.length + 4)), MAGIC.length);
  const path = join(dir, snapFileName(snap.term, snap.index));
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await writeFully(handle, bytes, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
  return path;
}

/** Why `bytes` (read from `file`) is not a valid snapshot file, or undefined when it is. */
function problem(file: string, bytes: Buffer): string | undefined {
  if (bytes.length < FIXED_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return 'not a strata snapshot file';
  if (crc32c(bytes.subarray(MAGIC.length + 4)) !== bytes.readUInt32LE(MAGIC.length)) return 'CRC mismatch';
  const match = pattern.exec(file);
  const term = readU64(bytes, MAGIC.length + 4);
  const index = readU64(bytes, MAGIC.length + 12);
  if (match === null || snapFileName(term, index) !== file) return `holds term ${term} index ${index}, unlike its name`;
  return undefined;
}

/**
 * Loads the newest valid snapshot file in `dir` that `accept` takes (etcd picks the newest
 * one the WAL has a marker for). A corrupt file is renamed to `<name>.broken` and logged,
 * and the next older one is tried, as etcd does.
 */
export async function loadNewestSnapFile(
  dir: string,
  options: { logger?: Logger; accept?: (term: number, index: number) => boolean } = {},
): Promise<SnapFile | undefined> {
  const logger = options.logger ?? silentLogger;
  const names = (await readdir(dir)).filter((n) => pattern.test(n)).sort().reverse();
  for (const name of names) {
    const path = join(dir, name);
    const bytes = await readFile(path);
    const bad = problem(name, bytes);
    if (bad !== undefined) {
      await rename(path, `${path}.broken`);
      logger.warn('skipped a corrupt raft snapshot file', { file: path, reason: bad, movedTo: `${path}.broken` });
      continue;
    }
    const snap = { term: readU64(bytes, MAGIC.length + 4), index: readU64(bytes, MAGIC.length + 12), data: bytes.subarray(FIXED_BYTES) };
    if (options.accept === undefined || options.accept(snap.term, snap.index)) return snap;
  }
  return undefined;
}
