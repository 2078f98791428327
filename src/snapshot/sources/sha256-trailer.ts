import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/**
 * etcd's Maintenance.Snapshot stream ends with the SHA-256 of the bbolt image before it, and
 * `etcdctl snapshot save` writes the stream as it comes. A bbolt image is whole pages (a
 * multiple of 512 bytes), so etcd recognises the trailer by size % 512 == 32; so do we.
 */
export const SHA256_TRAILER_BYTES = 32;

export function hasSha256Trailer(fileBytes: number): boolean {
  return fileBytes % 512 === SHA256_TRAILER_BYTES;
}

export interface TrailerCheck {
  ok: boolean;
  stored: string;
  computed: string;
}

const CHUNK_BYTES = 1 << 20;

/** Hashes the first size-32 bytes by streaming reads and compares them with the last 32. */
export async function checkSha256Trailer(file: FileHandle, fileBytes: number): Promise<TrailerCheck> {
  const dataBytes = fileBytes - SHA256_TRAILER_BYTES;
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let position = 0;
  while (position < dataBytes) {
    const { bytesRead } = await file.read(chunk, 0, Math.min(CHUNK_BYTES, dataBytes - position), position);
    if (bytesRead === 0) break;
    hash.update(chunk.subarray(0, bytesRead));
    position += bytesRead;
  }
  const stored = Buffer.alloc(SHA256_TRAILER_BYTES);
  const { bytesRead } = await file.read(stored, 0, SHA256_TRAILER_BYTES, dataBytes);
  const computed = hash.digest('hex');
  const storedHex = stored.toString('hex');
  return { ok: position === dataBytes && bytesRead === SHA256_TRAILER_BYTES && storedHex === computed, stored: storedHex, computed };
}
