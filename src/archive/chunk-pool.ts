/** Buffers kept for reuse beyond this are left to the garbage collector. */
const MAX_FREE = 4;

/**
 * Chunk buffers for the archive writer, reused once the compressor has taken a chunk in: a
 * fresh megabyte per chunk is garbage that V8 frees late (it is external memory), and a 1 GiB
 * save made a gigabyte of it.
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];

  constructor(readonly bufferBytes: number) {}

  /** A buffer of at least `bytes`; one larger than the pool's size is made for the occasion. */
  take(bytes: number): Buffer {
    if (bytes > this.bufferBytes) return Buffer.allocUnsafe(bytes);
    return this.free.pop() ?? Buffer.allocUnsafe(this.bufferBytes);
  }

  /** Hands back a buffer from take() that nothing reads or writes any more. */
  give(buffer: Buffer): void {
    if (buffer.length === this.bufferBytes && this.free.length < MAX_FREE) this.free.push(buffer);
  }
}
