import type { FileHandle } from 'node:fs/promises';
import { readPageHeader, type PageHeader } from './format.js';

/** Reports a structural problem; never returns. */
export type Fail = (problem: string) => never;

export interface Page {
  id: number;
  header: PageHeader;
  /** The page with its overflow pages: (overflow + 1) * pageSize bytes. */
  buf: Buffer;
}

/** Reads exactly `length` bytes at `position` (into `buf` when given), or reports the file as cut short. */
export async function readExactly(file: FileHandle, position: number, length: number, fail: Fail, buf: Buffer = Buffer.allocUnsafe(length)): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buf, done, length - done, position + done);
    if (bytesRead === 0) fail(`the file ends at byte ${position + done}, inside data that should run to byte ${position + length}`);
    done += bytesRead;
  }
  return buf;
}

const BLOCK_BYTES = 1024 * 1024;
const CACHED_BLOCKS = 8;
/**
 * An evicted block is reused only after this many more evictions. Pages are handed out as views
 * into their block, and a caller may still be reading the last leaf's entries (a record value, the
 * previous key it compares with) while the next blocks come in; nothing holds a view for longer
 * (the cursor copies the branch keys it keeps while it walks a subtree).
 */
const RETIRED_BLOCKS = 8;

/**
 * Pages of a bbolt file by positional reads: no mmap (the file may sit on NFS) and never the
 * whole file in memory. Neighbouring pages are read together in blocks and a few blocks are
 * kept (LRU), since a cursor walks leaves that bbolt mostly lays out side by side. Blocks of
 * 1 MiB: each read costs tens of microseconds however small, and with values of a few KiB
 * most leaves carry overflow pages, which smaller blocks often cut (about 1.7 s of a 400 MB
 * save went to reads with 64 KiB blocks).
 */
export class PageStore {
  private readonly pagesPerBlock: number;
  /** Bytes of a whole block: only those are reused (the file's last block may be shorter). */
  private readonly blockBytes: number;
  private readonly blocks = new Map<number, Promise<Buffer>>();
  /**
   * Evicted blocks, oldest first, waiting to be reused. A walk reads every block of a
   * multi-GiB file once: a new megabyte per block was garbage V8 collects late (it is external
   * memory), tens of MiB of a save's peak RSS.
   */
  private readonly retired: Promise<Buffer>[] = [];
  private readonly free: Buffer[] = [];

  constructor(
    private readonly file: FileHandle,
    readonly pageSize: number,
    /** The high water mark: valid page ids are below it. */
    readonly pageCount: number,
    private readonly fail: Fail,
  ) {
    this.pagesPerBlock = Math.max(1, Math.floor(BLOCK_BYTES / pageSize));
    this.blockBytes = this.pagesPerBlock * pageSize;
  }

  async page(id: number): Promise<Page> {
    if (!Number.isSafeInteger(id) || id < 0 || id >= this.pageCount) {
      this.fail(`page id ${id} is outside the database (pages 0..${this.pageCount - 1})`);
    }
    const blockIndex = Math.floor(id / this.pagesPerBlock);
    const block = await this.block(blockIndex);
    const offset = (id - blockIndex * this.pagesPerBlock) * this.pageSize;
    const header = readPageHeader(block, offset);
    if (header.id !== BigInt(id)) this.fail(`page ${id} carries the id ${header.id}`);
    if (id + header.overflow >= this.pageCount) {
      this.fail(`page ${id} claims ${header.overflow} overflow pages, running past the last page ${this.pageCount - 1}`);
    }
    const span = (header.overflow + 1) * this.pageSize;
    const buf =
      offset + span <= block.length
        ? block.subarray(offset, offset + span)
        : await readExactly(this.file, id * this.pageSize, span, this.fail);
    return { id, header, buf };
  }

  private block(index: number): Promise<Buffer> {
    const cached = this.blocks.get(index);
    if (cached) {
      this.blocks.delete(index);
      this.blocks.set(index, cached);
      return cached;
    }
    const first = index * this.pagesPerBlock;
    const pages = Math.min(this.pagesPerBlock, this.pageCount - first);
    const bytes = pages * this.pageSize;
    const reused = bytes === this.blockBytes ? this.free.pop() : undefined;
    const pending = readExactly(this.file, first * this.pageSize, bytes, this.fail, reused);
    // A failed read must not stay cached for the next caller.
    pending.catch(() => this.blocks.delete(index));
    this.blocks.set(index, pending);
    if (this.blocks.size > CACHED_BLOCKS) {
      const [oldest, evicted] = this.blocks.entries().next().value ?? [];
      if (oldest !== undefined && evicted !== undefined) {
        this.blocks.delete(oldest);
        this.retire(evicted);
      }
    }
    return pending;
  }

  private retire(block: Promise<Buffer>): void {
    this.retired.push(block);
    if (this.retired.length <= RETIRED_BLOCKS) return;
    void this.retired.shift()?.then(
      (buf) => {
        if (buf.length === this.blockBytes && this.free.length < 2) this.free.push(buf);
      },
      () => undefined,
    );
  }
}
