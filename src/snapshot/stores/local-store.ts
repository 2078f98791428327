import { constants, createReadStream } from 'node:fs';
import { access, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { formatSidecar, parseSidecar, sidecarName } from '../../archive/index.js';
import { StrataError, UsageError, errorMessage } from '../../util/errors.js';
import { removeIfInterrupted } from '../../util/temp-files.js';
import { newestFirst, type SnapshotStore, type StoredSnapshot, type StoreWriter } from './store.js';
import { SyncingFileStream } from './syncing-file-stream.js';

/** One line naming the file, what the system said and the fix. */
export function fileError(action: string, path: string, err: unknown): StrataError {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOSPC: 'no space left on the device; free space or choose another destination',
    EDQUOT: 'the disk quota is exhausted; free space or choose another destination',
    EACCES: 'permission denied; check the directory\'s owner and mode',
    EROFS: 'the file system is read-only; choose another destination',
    ENOENT: 'no such file or directory; check the path',
    EXDEV: 'the rename crossed file systems (the NFS export changed under us?); write to a directory on one file system',
    ESTALE: 'the NFS file handle went stale (the export was remounted or the file removed on the server); run the save again',
  };
  const text = (code !== undefined ? why[code] : undefined) ?? errorMessage(err);
  return new StrataError(`STRATA_STORE_${code ?? 'IO'}`, `Cannot ${action} '${path}': ${text}`, { cause: err });
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The directory `target` goes into exists and takes new files. */
async function checkDirectory(dir: string, target: string): Promise<void> {
  const info = await stat(dir).catch((err: unknown) => {
    throw fileError('write snapshot to', dir, err);
  });
  if (!info.isDirectory()) throw new UsageError(`Cannot write snapshot '${target}': '${dir}' is not a directory`);
  await access(dir, constants.W_OK).catch((err: unknown) => {
    throw fileError('write snapshot to', dir, err);
  });
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * A local or NFS path. Writes go to `<name>.part` (mode 0600), are fsynced, renamed into
 * place and the directory fsynced; the sidecar the same way. No mmap, no lock files: nothing
 * NFS breaks. A path ending in '/' or naming a directory is a store of many snapshots.
 */
export class LocalStore implements SnapshotStore {
  constructor(
    readonly path: string,
    private readonly isDirectory: boolean,
    /** The rename used to commit; tests inject NFS failures (EXDEV, ESTALE) through it. */
    private readonly renameFile: (from: string, to: string) => Promise<void> = rename,
  ) {}

  static async at(path: string, renameFile?: (from: string, to: string) => Promise<void>): Promise<LocalStore> {
    const info = path.endsWith('/') ? undefined : await stat(path).catch(() => undefined);
    return new LocalStore(path, path.endsWith('/') || (info?.isDirectory() ?? false), renameFile);
  }

  get location(): string {
    return this.path;
  }

  preflight(): Promise<void> {
    return checkDirectory(this.isDirectory ? this.path : dirname(this.path), this.path);
  }

  async createWriter(name: string): Promise<StoreWriter> {
    const target = this.isDirectory ? join(this.path, name) : this.path;
    const dir = dirname(target);
    const part = `${target}.part`;
    const sidecar = sidecarName(target);
    const sidecarPart = `${sidecar}.part`;
    await checkDirectory(dir, target);
    const forgetPart = removeIfInterrupted(part);
    const forgetSidecarPart = removeIfInterrupted(sidecarPart);
    const forget = (): void => {
      forgetPart();
      forgetSidecarPart();
    };
    const stream = new SyncingFileStream(part, 0o600);
    let failure: unknown;
    stream.on('error', (err) => {
      failure ??= err;
    });
    const cleanup = async (): Promise<void> => {
      // The file is opened asynchronously: unlinking before the open would leave it behind.
      if (!stream.closed) {
        const closed = once(stream, 'close');
        stream.destroy();
        await closed;
      }
      await removeQuietly(part);
      await removeQuietly(sidecarPart);
      forget();
    };
    return {
      stream,
      commit: async (sha256) => {
        try {
          if (failure !== undefined) throw failure;
          // The stream fsyncs the archive before it finishes; an unfinished one is not on disk.
          if (!stream.writableFinished) throw new StrataError('STRATA_STORE_ORDER', `Cannot commit '${target}': its stream has not finished`);
          await writeFile(sidecarPart, formatSidecar(sha256, target), { mode: 0o600 });
          await fsyncPath(sidecarPart, 'r+');
          await this.renameFile(part, target);
          await this.renameFile(sidecarPart, sidecar).catch(async (err: unknown) => {
            // The archive must not look complete without its sidecar either way.
            await removeQuietly(target);
            throw err;
          });
          await fsyncPath(dir, 'r');
          forget();
          return target;
        } catch (err) {
          await cleanup();
          throw err instanceof StrataError ? err : fileError('write snapshot', target, err);
        }
      },
      abort: cleanup,
    };
  }

  async openReader(): Promise<{ stream: ReturnType<typeof createReadStream>; size: number; sha256?: string }> {
    const info = await stat(this.path).catch((err: unknown) => {
      throw fileError('open snapshot', this.path, err);
    });
    if (info.isDirectory()) throw new UsageError(`Cannot open snapshot '${this.path}': it is a directory; name a snapshot file in it (see 'strata snapshot ls ${this.path}')`);
    const sha256 = await readSidecar(sidecarName(this.path));
    const stream = createReadStream(this.path);
    return sha256 === undefined ? { stream, size: info.size } : { stream, size: info.size, sha256 };
  }

  async list(): Promise<StoredSnapshot[]> {
    let names: string[];
    try {
      names = await readdir(this.path);
    } catch (err) {
      throw fileError('list snapshots in', this.path, err);
    }
    const out: StoredSnapshot[] = [];
    for (const name of names) {
      if (!name.endsWith('.tar.zst') && !name.endsWith('.db')) continue;
      const location = join(this.path, name);
      const info = await stat(location).catch(() => undefined);
      if (!info?.isFile()) continue;
      const sha256 = await readSidecar(sidecarName(location));
      out.push({ location, name: basename(name), size: info.size, modified: info.mtime, ...(sha256 !== undefined ? { sha256 } : {}) });
    }
    return out.sort(newestFirst);
  }
}

async function readSidecar(path: string): Promise<string | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseSidecar(text);
}
