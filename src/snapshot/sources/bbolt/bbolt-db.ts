import { open, type FileHandle } from 'node:fs/promises';
import { IntegrityError } from '../../../util/errors.js';
import { BucketWalker, bucketRef, type BucketRef } from './cursor.js';
import type { LeafElement } from './elements.js';
import {
  BBOLT_MAGIC,
  BBOLT_VERSION,
  META_CHECKSUMMED_BYTES,
  META_SIZE,
  NO_FREELIST,
  PAGE_HEADER_SIZE,
  PageFlag,
  fnv1a64,
  pageKind,
  readMeta,
  readPageHeader,
  type BboltMeta,
} from './format.js';
import { PageSet } from './page-set.js';
import { PageStore, readExactly, type Fail } from './page-store.js';

export type { BucketRef } from './cursor.js';
export type { LeafElement as BboltEntry } from './elements.js';
export type { BboltMeta } from './format.js';

export interface BboltCheck {
  /** Ids of the pages reached from the root, overflow pages included, ascending. */
  usedPages: number[];
  /** Pages the persisted freelist names, or undefined when it was not persisted. */
  freePages: number | undefined;
  /** Keys in all buckets, nested bucket names included. */
  keys: number;
}

export interface BboltOpenOptions {
  /** Names the file in error messages; defaults to the path. */
  name?: string;
  /** Bytes of the file that belong to the database (a trailer may follow); defaults to the file size. */
  length?: number;
  /** What the file is, for messages: "Cannot read <kind> '<name>': ..."; defaults to "bbolt database". */
  kind?: string;
}

/** Where the second meta page may sit when the first is unreadable: the usual page sizes. */
const PAGE_SIZE_GUESSES = [4096, 8192, 16384, 65536, 32768, 2048, 1024, 512];

type MetaCheck = { meta: BboltMeta } | { problem: string };

function checkMeta(buf: Buffer, expectedId: number, expectedPageSize: number | undefined): MetaCheck {
  const header = readPageHeader(buf);
  const meta = readMeta(buf, PAGE_HEADER_SIZE);
  if (meta.magic !== BBOLT_MAGIC) return { problem: 'has no bbolt magic number' };
  if (meta.version !== BBOLT_VERSION) return { problem: `has format version ${meta.version}, expected ${BBOLT_VERSION}` };
  const sum = fnv1a64(buf.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_CHECKSUMMED_BYTES));
  if (sum !== meta.checksum) return { problem: `fails its checksum (stored 0x${meta.checksum.toString(16)}, computed 0x${sum.toString(16)})` };
  if (header.flags !== PageFlag.meta) return { problem: `is marked as a ${pageKind(header.flags)} page` };
  if (header.id !== BigInt(expectedId)) return { problem: `carries the page id ${header.id}` };
  if (header.count !== 0 || header.overflow !== 0) return { problem: `has an element count (${header.count}) or overflow (${header.overflow}) where bbolt writes 0` };
  const ps = meta.pageSize;
  if (ps < 512 || ps > 1 << 20 || (ps & (ps - 1)) !== 0) return { problem: `gives the page size ${ps}, which is not a power of two in 512..1048576` };
  if (expectedPageSize !== undefined && ps !== expectedPageSize) return { problem: `gives the page size ${ps}, but it sits at byte ${expectedPageSize}` };
  return { meta };
}

/**
 * A read-only bbolt database read through a file handle (see PageStore). Opening validates both
 * meta pages, the high water mark against the file length and the freelist; walking a bucket
 * validates every page on the way. Any damage is an IntegrityError naming the file and what
 * is wrong.
 */
export class BboltDb {
  private readonly walker: BucketWalker;
  private freelist: number[] | undefined;
  readonly root: BucketRef;

  private constructor(
    private readonly file: FileHandle,
    private readonly ownsFile: boolean,
    readonly name: string,
    readonly meta: BboltMeta,
    private readonly store: PageStore,
    private readonly fail: Fail,
  ) {
    this.walker = new BucketWalker(store, fail);
    this.root = { name: '(root)', root: Number(meta.rootPgid), inline: undefined };
  }

  static async open(path: string, options: BboltOpenOptions = {}): Promise<BboltDb> {
    const file = await open(path, 'r');
    try {
      const length = options.length ?? (await file.stat()).size;
      return await BboltDb.init(file, true, options.name ?? path, length, options.kind);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /** Reads through a handle the caller keeps and closes. */
  static fromHandle(file: FileHandle, options: { name: string; length: number; kind?: string }): Promise<BboltDb> {
    return BboltDb.init(file, false, options.name, options.length, options.kind);
  }

  private static async init(file: FileHandle, ownsFile: boolean, name: string, length: number, kind = 'bbolt database'): Promise<BboltDb> {
    const fail: Fail = (problem) => {
      throw new IntegrityError(`Cannot read ${kind} '${name}': ${problem}`);
    };
    const metaBytes = PAGE_HEADER_SIZE + META_SIZE;
    if (length < metaBytes) fail(`it is ${length} bytes long, too short for a meta page (the file is empty, truncated or not a bbolt database)`);
    const first = checkMeta(await readExactly(file, 0, metaBytes, fail), 0, undefined);
    if ('problem' in first && first.problem === 'has no bbolt magic number') {
      fail('it does not start with a bbolt meta page (not a bbolt database, or its first page is damaged)');
    }
    const guesses = 'meta' in first ? [first.meta.pageSize] : PAGE_SIZE_GUESSES;
    let second: MetaCheck = { problem: 'lies beyond the end of the file' };
    for (const pageSize of guesses) {
      if (pageSize + metaBytes > length) continue;
      second = checkMeta(await readExactly(file, pageSize, metaBytes, fail), 1, pageSize);
      if ('meta' in second) break;
    }
    // A snapshot holds two intact copies of the meta; losing one is damage even though bbolt
    // itself would fall back to the other.
    if ('problem' in first) fail(`meta page 0 ${first.problem}`);
    if ('problem' in second) fail(`meta page 1 ${second.problem}`);
    const meta = first.meta.txid >= second.meta.txid ? first.meta : second.meta;

    const { pageSize } = meta;
    for (const index of [0, 1]) {
      const page = await readExactly(file, index * pageSize, pageSize, fail);
      if (page.subarray(metaBytes).some((b) => b !== 0)) fail(`meta page ${index} has data after the meta, where bbolt leaves zeros`);
    }
    if (meta.pgid < 3n || meta.pgid > BigInt(Number.MAX_SAFE_INTEGER)) fail(`the meta page gives ${meta.pgid} pages in use`);
    const pageCount = Number(meta.pgid);
    if (pageCount * pageSize > length) {
      fail(
        `the database needs ${pageCount * pageSize} bytes (${pageCount} pages of ${pageSize}) but the file holds ${length}: it is truncated`,
      );
    }
    if (meta.rootPgid < 2n || meta.rootPgid >= meta.pgid) fail(`the root bucket is at page ${meta.rootPgid}, outside pages 2..${pageCount - 1}`);
    if (meta.freelistPgid !== NO_FREELIST && (meta.freelistPgid < 2n || meta.freelistPgid >= meta.pgid)) {
      fail(`the freelist is at page ${meta.freelistPgid}, outside pages 2..${pageCount - 1}`);
    }
    const store = new PageStore(file, pageSize, pageCount, fail);
    const db = new BboltDb(file, ownsFile, name, meta, store, fail);
    if (meta.freelistPgid !== NO_FREELIST) db.freelist = await db.readFreelist(Number(meta.freelistPgid));
    return db;
  }

  get pageSize(): number {
    return this.meta.pageSize;
  }

  /** Pages in use (the high water mark). */
  get pageCount(): number {
    return Number(this.meta.pgid);
  }

  /** The database's size as bbolt counts it (tx.Size): pages in use times the page size. */
  get sizeBytes(): number {
    return this.pageCount * this.pageSize;
  }

  /** The entries of a bucket in key order; keys and values are views, copy what you keep. */
  entries(bucket: BucketRef): AsyncGenerator<LeafElement> {
    return this.walker.entries(bucket);
  }

  /** The same entries a leaf at a time (see BucketWalker.leaves). */
  leaves(bucket: BucketRef): AsyncGenerator<LeafElement[]> {
    return this.walker.leaves(bucket);
  }

  lastEntry(bucket: BucketRef): Promise<LeafElement | undefined> {
    return this.walker.lastEntry(bucket);
  }

  /** The sub-buckets of `parent` (the root by default) in name order. */
  async *buckets(parent: BucketRef = this.root): AsyncGenerator<{ name: Buffer; bucket: BucketRef }> {
    for await (const entry of this.entries(parent)) {
      if (!entry.isBucket) this.fail(`the ${describeParent(parent)} holds a plain key where only buckets belong`);
      const name = Buffer.from(entry.key);
      yield { name, bucket: bucketRef(childName(parent, name), entry.value, this.pageCount, this.fail) };
    }
  }

  /** A sub-bucket by name, or undefined when there is none. */
  async bucket(name: string, parent: BucketRef = this.root): Promise<BucketRef | undefined> {
    const wanted = Buffer.from(name);
    for await (const entry of this.entries(parent)) {
      const order = Buffer.compare(entry.key, wanted);
      if (order > 0) return undefined;
      if (order < 0) continue;
      if (!entry.isBucket) this.fail(`'${name}' in the ${describeParent(parent)} is a plain key, expected a bucket`);
      return bucketRef(childName(parent, wanted), entry.value, this.pageCount, this.fail);
    }
    return undefined;
  }

  /**
   * Walks every bucket, nested ones too, with one set of claimed pages (as bbolt's tx.Check
   * does): no page may serve two nodes, or be both in use and free; with a persisted freelist,
   * every page must be one or the other.
   */
  async check(): Promise<BboltCheck> {
    const claimed = new PageSet(this.pageCount);
    let keys = 0;
    const walk = async (bucket: BucketRef): Promise<void> => {
      for await (const entry of this.walker.entries(bucket, claimed)) {
        keys++;
        if (entry.isBucket) await walk(bucketRef(childName(bucket, Buffer.from(entry.key)), entry.value, this.pageCount, this.fail));
      }
    };
    await walk(this.root);
    const usedPages = claimed.ids();
    if (this.freelist === undefined) return { usedPages, freePages: undefined, keys };
    const freelistId = Number(this.meta.freelistPgid);
    const freelistPage = await this.store.page(freelistId);
    const claim = (id: number, as: string): void => {
      if (claimed.has(id)) this.fail(`page ${id} is ${as} but is in use`);
      claimed.add(id);
    };
    for (let id = freelistId; id <= freelistId + freelistPage.header.overflow; id++) claim(id, 'part of the freelist');
    for (const id of this.freelist) claim(id, 'listed as free');
    for (let id = 2; id < this.pageCount; id++) {
      if (!claimed.has(id)) this.fail(`page ${id} is neither in use nor listed as free`);
    }
    return { usedPages, freePages: this.freelist.length, keys };
  }

  async close(): Promise<void> {
    if (this.ownsFile) await this.file.close();
  }

  private async readFreelist(id: number): Promise<number[]> {
    const page = await this.store.page(id);
    if (page.header.flags !== PageFlag.freelist) this.fail(`page ${id} should hold the freelist but is a ${pageKind(page.header.flags)} page`);
    // A count of 0xFFFF means the real count is in the first element.
    let count = page.header.count;
    let at = PAGE_HEADER_SIZE;
    if (count === 0xffff) {
      const stored = page.buf.readBigUInt64LE(at);
      if (stored > BigInt(this.pageCount)) this.fail(`the freelist on page ${id} claims ${stored} free pages, more than the database has`);
      count = Number(stored);
      at += 8;
    }
    if (at + count * 8 > page.buf.length) this.fail(`the freelist on page ${id} claims ${count} free pages, more than fit in it`);
    const free: number[] = [];
    let previous = 1n;
    for (let i = 0; i < count; i++, at += 8) {
      const pgid = page.buf.readBigUInt64LE(at);
      if (pgid <= previous || pgid >= this.meta.pgid) {
        this.fail(`the freelist on page ${id} lists page ${pgid} (entry ${i}), out of order or outside pages 2..${this.pageCount - 1}`);
      }
      previous = pgid;
      free.push(Number(pgid));
    }
    return free;
  }
}

function childName(parent: BucketRef, name: Buffer): string {
  const text = name.toString('latin1');
  return parent.name === '(root)' ? text : `${parent.name}/${text}`;
}

function describeParent(parent: BucketRef): string {
  return parent.name === '(root)' ? 'root bucket' : `bucket '${parent.name}'`;
}

/** True when the bytes at the start of a file look like a bbolt meta page (for format sniffing). */
export function looksLikeBbolt(head: Buffer): boolean {
  return head.length >= PAGE_HEADER_SIZE + 4 && head.readUInt32LE(PAGE_HEADER_SIZE) === BBOLT_MAGIC;
}
