import { readSync } from 'node:fs';

/**
 * Reads a temporary file of variable-length records front to back through one reused buffer,
 * grown for a record longer than it. The caller parses at `start` in `buffer` (or `view`) and
 * moves `start` past what it used; views into `buffer` stay valid until the next fill().
 */
export class SpillFileReader {
  buffer: Buffer;
  view: DataView;
  start = 0;
  private end = 0;
  private position = 0;

  constructor(
    private readonly fd: number,
    private readonly path: string,
    blockBytes: number,
    private readonly guard: <T>(work: () => T) => T,
  ) {
    this.buffer = Buffer.allocUnsafe(blockBytes);
    this.view = viewOf(this.buffer);
  }

  /** Makes `bytes` unread bytes available from `start`; false at the end of the file, between records. */
  fill(bytes: number): boolean {
    if (this.end - this.start >= bytes) return true;
    const held = this.end - this.start;
    if (bytes > this.buffer.length) {
      const grown = Buffer.allocUnsafe(bytes);
      this.buffer.copy(grown, 0, this.start, this.end);
      this.buffer = grown;
      this.view = viewOf(grown);
    } else {
      this.buffer.copy(this.buffer, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = held;
    while (this.end < bytes) {
      const read = this.guard(() => readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, this.position));
      if (read === 0) {
        if (this.end === 0) return false;
        throw new Error(`temporary file '${this.path}' ends inside a record`);
      }
      this.end += read;
      this.position += read;
    }
    return true;
  }
}

export function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
