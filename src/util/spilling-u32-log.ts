import { closeSync, openSync, readSync } from 'node:fs';
import { SpillDirectory, writeFullySync, type SpillOptions } from './temp-files.js';

/**
 * An append-only list of fixed-width tuples of 32-bit numbers, read back in order once: in
 * memory up to `memoryBytes`, in a temporary file past that (such as a CRC and a length for
 * every revision a compaction kept, of which a snapshot can hold millions).
 */
export interface SpillingU32LogOptions extends SpillOptions {
  /** Numbers per tuple. */
  width: number;
}

const MEMORY_BYTES = 2 * 2 ** 20;
const BLOCK_BYTES = 1024 * 1024;

export class SpillingU32Log {
  private readonly blockTuples: number;
  private readonly memoryBlocks: number;
  private blocks: Uint32Array[] = [];
  private used = 0;
  private count = 0;
  private readonly files: SpillDirectory;
  private fd: number | undefined;

  constructor(private readonly options: SpillingU32LogOptions) {
    this.blockTuples = Math.floor(BLOCK_BYTES / 4 / options.width);
    this.memoryBlocks = Math.max(1, Math.floor((options.memoryBytes ?? MEMORY_BYTES) / BLOCK_BYTES));
    this.files = new SpillDirectory(options, 'strata-log-');
  }

  get length(): number {
    return this.count;
  }

  /** Appends one tuple (`width` numbers); returns its index. */
  push(tuple: ArrayLike<number>): number {
    let block = this.blocks[this.blocks.length - 1];
    if (block === undefined || this.used === this.blockTuples) {
      if (this.blocks.length === this.memoryBlocks) this.writeOut();
      block = new Uint32Array(this.blockTuples * this.options.width);
      this.blocks.push(block);
      this.used = 0;
    }
    block.set(tuple, this.used * this.options.width);
    this.used++;
    return this.count++;
  }

  /**
   * Calls `visit` with each tuple's index and where its numbers are: `width` of them in `values`
   * from `at` (no view per tuple: a log holds millions).
   */
  forEach(visit: (index: number, values: Uint32Array, at: number) => void): void {
    const width = this.options.width;
    let index = 0;
    const visitBlock = (block: Uint32Array, tuples: number): void => {
      for (let t = 0; t < tuples; t++) visit(index++, block, t * width);
    };
    if (this.fd !== undefined) {
      const fd = this.fd;
      const block = new Uint32Array(this.blockTuples * width);
      const bytes = Buffer.from(block.buffer);
      for (let position = 0; ; ) {
        const read = this.files.guard(() => readSync(fd, bytes, 0, bytes.length, position));
        if (read === 0) break;
        position += read;
        visitBlock(block, read / 4 / width);
      }
    }
    this.blocks.forEach((block, i) => visitBlock(block, i === this.blocks.length - 1 ? this.used : this.blockTuples));
  }

  /** Removes the temporary file; safe to call more than once. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.files.remove();
    this.blocks = [];
  }

  /** Moves the full blocks in memory to the file. */
  private writeOut(): void {
    if (this.fd === undefined) {
      const path = this.files.file('tuples');
      this.fd = this.files.guard(() => openSync(path, 'wx+', 0o600));
    }
    const fd = this.fd;
    for (const block of this.blocks) {
      const bytes = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
      this.files.guard(() => writeFullySync(fd, bytes));
    }
    this.blocks = [];
  }
}
