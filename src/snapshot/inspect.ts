import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ArchiveReader, etcdHashNeedsRecords, type ArchiveVerification } from '../archive/index.js';
import { IntegrityError } from '../util/errors.js';
import { scratchFile } from '../util/temp-files.js';
import { openEtcdSnapshot, type EtcdSnapshot } from './sources/etcd-snapshot.js';
import { peek } from './peek.js';
import { looksLikeBbolt } from './sources/bbolt/bbolt-db.js';
import { LocalStore } from './stores/local-store.js';
import { closeStore, openStore, type OpenStoreOptions } from './stores/open-store.js';
import type { SnapshotStore } from './stores/store.js';

/** What `snapshot status -w json` prints: etcdutl's names plus ours. */
export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
  compactRevision: number;
  hashKV: number | null;
  clusterId: string | null;
  createdAt: string | null;
  format: string;
}

export interface VerifyReport {
  status: SnapshotStatus;
  /** What was checked, for the summary line. */
  checks: string[];
}

export interface InspectOptions {
  /**
   * Bytes of an archive read so far, and its size when the store knows it (a file, an S3
   * object; not stdin). An etcd image is read several times over and reports nothing.
   */
  onBytes?: (bytes: number, total: number | undefined) => void;
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
/** Enough for bbolt's magic in its first meta page. */
const SNIFF_BYTES = 64;

type Opened =
  | { kind: 'archive'; stream: AsyncIterable<Buffer>; size?: number; sha256?: string }
  | { kind: 'etcd'; image: EtcdSnapshot; release: () => Promise<void> };

/** Peeks at the first bytes: a Strata archive streams on; an etcd image needs a file (spooled when not one). */
async function openSnapshot(store: SnapshotStore): Promise<Opened> {
  const { stream, size, sha256 } = await store.openReader();
  const { head, rest } = await peek(stream, SNIFF_BYTES);
  if (head.length >= 4 && head.subarray(0, 4).equals(ZSTD_MAGIC)) {
    return { kind: 'archive', stream: rest, ...(size !== undefined ? { size } : {}), ...(sha256 !== undefined ? { sha256 } : {}) };
  }
  if (head.length === 0) throw new IntegrityError(`Cannot read snapshot '${store.location}': the file is empty`);
  if (!looksLikeBbolt(head)) {
    await rest[Symbol.asyncIterator]().return?.();
    throw new IntegrityError(`Cannot read snapshot '${store.location}': it is neither a Strata archive (zstd) nor an etcd snapshot (bbolt); check the path`);
  }
  if (store instanceof LocalStore) {
    await rest[Symbol.asyncIterator]().return?.();
    return { kind: 'etcd', image: await openEtcdSnapshot(store.path), release: async () => undefined };
  }
  const { path: spool, remove } = scratchFile('strata-verify', '.db');
  try {
    await pipeline(rest, createWriteStream(spool, { flags: 'wx', mode: 0o600 }));
    return { kind: 'etcd', image: await openEtcdSnapshot(spool, { name: store.location }), release: remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

function archiveStatus(v: ArchiveVerification): SnapshotStatus {
  return {
    hash: v.trailer.hashKV?.hash ?? 0,
    revision: v.manifest.revision,
    totalKey: v.trailer.keyCount,
    totalSize: v.bytes,
    compactRevision: v.manifest.compactRevision,
    hashKV: v.etcdHashKV,
    clusterId: v.manifest.source.clusterId,
    createdAt: v.manifest.createdAt,
    format: `strata-archive ${v.manifest.formatVersion} (${v.manifest.contents})`,
  };
}

async function etcdStatus(image: EtcdSnapshot): Promise<SnapshotStatus> {
  const file = await image.fileStatus();
  const hashKV = await image.hashKV();
  return {
    hash: file.hash,
    revision: file.revision,
    totalKey: file.totalKey,
    totalSize: file.totalSize,
    compactRevision: image.compactRevision,
    hashKV: hashKV.hash,
    clusterId: null,
    createdAt: null,
    format: 'etcd-bbolt',
  };
}

async function* counted(stream: AsyncIterable<Buffer>, total: number | undefined, onBytes: NonNullable<InspectOptions['onBytes']>): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.length;
    onBytes(bytes, total);
    yield chunk;
  }
}

async function withOpened<T>(
  store: SnapshotStore,
  options: InspectOptions,
  onArchive: (o: Extract<Opened, { kind: 'archive' }>) => Promise<T>,
  onEtcd: (image: EtcdSnapshot) => Promise<T>,
): Promise<T> {
  const opened = await openSnapshot(store);
  if (opened.kind === 'archive') {
    const { onBytes } = options;
    return onArchive(onBytes === undefined ? opened : { ...opened, stream: counted(opened.stream, opened.size, onBytes) });
  }
  try {
    return await onEtcd(opened.image);
  } finally {
    await opened.image.close();
    await opened.release();
  }
}

/**
 * `snapshot status`: reads to the trailer (entry digests checked, records not decoded), or, for
 * a compacted history written before format 1.1, through every record to compute etcd's
 * HashKV, which its trailer does not give.
 */
export function snapshotStatus(store: SnapshotStore, options: InspectOptions = {}): Promise<SnapshotStatus> {
  return withOpened(
    store,
    options,
    async (o) => {
      const reader = await ArchiveReader.open(o.stream, {
        label: store.location,
        computeEtcdHash: etcdHashNeedsRecords,
        ...(o.sha256 !== undefined ? { expectedSha256: o.sha256 } : {}),
      });
      return archiveStatus(await (etcdHashNeedsRecords(reader.manifest) ? reader.finish() : reader.skipToTrailer()));
    },
    etcdStatus,
  );
}

/**
 * `snapshot verify`: every checksum, every record decoded, MVCC invariants, the trailer's
 * hashes recomputed (etcd's HashKV at the snapshot revision too, for a compacted history of
 * format 1.0 that has none in its trailer) and reported.
 */
export function verifySnapshot(store: SnapshotStore, options: InspectOptions = {}): Promise<VerifyReport> {
  return withOpened(
    store,
    options,
    async (o) => {
      const reader = await ArchiveReader.open(o.stream, {
        label: store.location,
        checkMvcc: true,
        computeEtcdHash: true,
        ...(o.sha256 !== undefined ? { expectedSha256: o.sha256 } : {}),
      });
      const status = archiveStatus(await reader.finish());
      const checks = ['zstd and tar layers', 'entry SHA-256s', 'records and MVCC invariants', 'counts and hashKV'];
      if (o.sha256 !== undefined) checks.push('whole-file SHA-256 (sidecar)');
      return { status, checks };
    },
    async (image) => {
      await image.checkPages();
      const status = await etcdStatus(image);
      await image.keyCount();
      const checks = ['bbolt pages', 'revisions and key-values', 'hashKV'];
      if (image.sha256 !== undefined) checks.unshift('SHA-256 trailer');
      return { status, checks };
    },
  );
}

/** What each inspection gives. */
export interface InspectResults {
  verify: VerifyReport;
  status: SnapshotStatus;
}

/** Opens the store at `location`, runs verify or status on it, and releases the store. */
export async function inspectLocation<K extends keyof InspectResults>(
  kind: K,
  location: string,
  storeOptions: OpenStoreOptions,
  options: InspectOptions = {},
): Promise<InspectResults[K]> {
  const store = await openStore(location, storeOptions);
  try {
    const inspections: { [P in keyof InspectResults]: () => Promise<InspectResults[P]> } = {
      verify: () => verifySnapshot(store, options),
      status: () => snapshotStatus(store, options),
    };
    return await inspections[kind]();
  } finally {
    closeStore(store);
  }
}
