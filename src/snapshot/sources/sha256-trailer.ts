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

/**
 * The SHA-256 of all but the last 32 bytes of a stream, computed as it is written to a file, so
 * the trailer can be checked without reading the file once more.
 */
export class TrailerHasher {
  private readonly hash = createHash('sha256');
  private tail = Buffer.alloc(0);
  private bytes = 0;

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    // Only the held-back tail is ever copied: joining it to each chunk copied the whole stream.
    if (chunk.length < SHA256_TRAILER_BYTES) {
      const joined = Buffer.concat([this.tail, chunk]);
      const cut = Math.max(0, joined.length - SHA256_TRAILER_BYTES);
      this.hash.update(joined.subarray(0, cut));
      this.tail = Buffer.from(joined.subarray(cut));
      return;
    }
    this.hash.update(this.tail);
    this.hash.update(chunk.subarray(0, chunk.length - SHA256_TRAILER_BYTES));
    this.tail = Buffer.from(chunk.subarray(chunk.length - SHA256_TRAILER_BYTES));
  }

  /** The hash of the bytes before the trailer (hex), given how many bytes the file holds. */
  digest(): { fileBytes: number; computed: string } {
    return { fileBytes: this.bytes, computed: this.hash.digest('hex') };
  }
}

/**
 * Compares the last 32 bytes with the SHA-256 of the bytes before them: `precomputed` when the
 * caller hashed the file as it wrote it (see TrailerHasher), else by streaming reads.
 */
export async function checkSha256Trailer(file: FileHandle, fileBytes: number, precomputed?: { fileBytes: number; computed: string }): Promise<TrailerCheck> {
  const dataBytes = fileBytes - SHA256_TRAILER_BYTES;
  let computed: string;
  let position = 0;
  if (precomputed !== undefined && precomputed.fileBytes === fileBytes) {
    computed = precomputed.computed;
    position = dataBytes;
  } else {
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    while (position < dataBytes) {
      const { bytesRead } = await file.read(chunk, 0, Math.min(CHUNK_BYTES, dataBytes - position), position);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
      position += bytesRead;
    }
    computed = hash.digest('hex');
  }
  const stored = Buffer.alloc(SHA256_TRAILER_BYTES);
  const { bytesRead } = await file.read(stored, 0, SHA256_TRAILER_BYTES, dataBytes);
  const storedHex = stored.toString('hex');
  return { ok: position === dataBytes && bytesRead === SHA256_TRAILER_BYTES && storedHex === computed, stored: storedHex, computed };
}
