import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { LocalStore } from './local-store.js';
import type { S3StoreOptions } from './s3-store.js';
import { StdioStore } from './stdio-store.js';
import type { SnapshotStore } from './store.js';

export interface OpenStoreOptions {
  /** For `-`. */
  stdout?: Writable;
  stdin?: Readable;
  logger?: Logger;
  /** Endpoint, path style, SSE for s3:// locations. */
  s3?: S3StoreOptions;
}

/** Releases what a store holds (an S3 client's connections) so the process can exit. */
export function closeStore(store: SnapshotStore): void {
  store.destroy?.();
}

/** A store for `<dest>`/`<src>`/`<store>`: a path, file:///path, `-`, or s3://bucket/key. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<SnapshotStore> {
  if (url === '') throw new UsageError('Missing snapshot location: give a path, file:///path, s3://bucket/key or -');
  if (url === '-') return new StdioStore(options);
  // The AWS SDK costs about 20 MiB of memory and a moment to load: only s3:// locations pay for it.
  if (url.startsWith('s3://')) return (await import('./s3-store.js')).S3Store.fromUrl(url, { ...options.s3, logger: options.logger });
  if (url.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw new UsageError(`Invalid file URL '${url}': ${(err as Error).message}; use file:///absolute/path`);
    }
    return LocalStore.at(url.endsWith('/') && !path.endsWith('/') ? `${path}/` : path);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new UsageError(`Unsupported snapshot location '${url}': use a path, file://, s3:// or -`);
  return LocalStore.at(url);
}
