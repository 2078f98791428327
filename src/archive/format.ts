import { IntegrityError } from '../util/errors.js';

/** The archive's identity and layout constants (docs/archive-format.md). */
export const FORMAT_NAME = 'strata-archive';
export const FORMAT_MAJOR = 1;
/** 1.1 added the trailer's `hashKV.etcdHash`. */
export const FORMAT_MINOR = 1;
export const FORMAT_VERSION = `${FORMAT_MAJOR}.${FORMAT_MINOR}`;

export const MANIFEST_ENTRY = 'manifest.json';
export const TRAILER_ENTRY = 'trailer.json';
export const AUTH_ENTRY = 'auth.pb';

export type ChunkKind = 'records' | 'leases';

/** Writers close a chunk entry once it reaches this many bytes. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/**
 * The largest entry a reader buffers. A chunk holds at least one record, so this also bounds
 * a single stored key-value (etcd's own request limit is far below it).
 */
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
export const MAX_JSON_ENTRY_BYTES = 16 * 1024 * 1024;

export function chunkEntryName(kind: ChunkKind, index: number): string {
  return `${kind}/${String(index).padStart(6, '0')}.pb`;
}

const chunkNamePattern = /^(records|leases)\/(\d{6})\.pb$/;

export function parseChunkEntryName(name: string): { kind: ChunkKind; index: number } | undefined {
  const match = chunkNamePattern.exec(name);
  if (match === null) return undefined;
  return { kind: match[1] as ChunkKind, index: Number(match[2]) };
}

/** The one-line integrity failure every reader check reports: exit code 3. */
export function archiveIntegrityError(label: string, detail: string, cause?: unknown): IntegrityError {
  return new IntegrityError(`Cannot read snapshot '${label}': ${detail}`, cause === undefined ? {} : { cause });
}
