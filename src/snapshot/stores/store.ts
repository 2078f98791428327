import type { Readable, Writable } from 'node:stream';

/**
 * Where snapshots live: one object or file, or a prefix/directory of many. Every store writes
 * so that nothing looks complete until commit() resolves, and abort() leaves nothing behind.
 */
export interface SnapshotStore {
  readonly location: string;
  /**
   * Fails when a snapshot clearly cannot be written here (a missing directory or bucket, wrong
   * credentials, an unreachable endpoint). A save calls it before it reads its source, which for
   * a large etcd is minutes of transfer; createWriter comes only after that.
   */
  preflight?(): Promise<void>;
  /** `name` is used only when the location is a prefix or directory (ends with '/'). */
  createWriter(name: string): Promise<StoreWriter>;
  openReader(): Promise<{ stream: Readable; size?: number; sha256?: string }>;
  /** Complete snapshots only, newest first. */
  list(): Promise<StoredSnapshot[]>;
  /** Releases what the store holds (an S3 client's connections) so the process can exit. */
  destroy?(): void;
}

export interface StoreWriter {
  stream: Writable;
  /**
   * Makes the snapshot complete with its whole-file SHA-256 (hex); resolves to its location.
   * Call it once `stream` has finished.
   */
  commit(sha256: string): Promise<string>;
  abort(err?: unknown): Promise<void>;
}

export interface StoredSnapshot {
  location: string;
  name: string;
  size: number;
  modified: Date;
  sha256?: string;
}

/**
 * Sort order for list(): names carry the UTC time, so the greater name is the newer snapshot;
 * the modification time breaks ties between equal names (or names without a time).
 */
export function newestFirst(a: StoredSnapshot, b: StoredSnapshot): number {
  if (a.name !== b.name) return a.name < b.name ? 1 : -1;
  return b.modified.getTime() - a.modified.getTime();
}
