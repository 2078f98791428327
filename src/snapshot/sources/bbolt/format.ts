/**
 * bbolt's on-disk layout (go.etcd.io/bbolt, format version 2), little-endian as written on the
 * platforms etcd ships for.
 *
 * Every page starts with a 16-byte header: id u64, flags u16, count u16, overflow u32; a page
 * with overflow n spans n+1 pages. Pages 0 and 1 hold the two meta copies. Branch elements
 * (16 bytes: pos u32, ksize u32, child pgid u64) and leaf elements (16 bytes: flags u32, pos u32,
 * ksize u32, vsize u32) follow the header; `pos` counts from the element's own first byte. A
 * leaf element with the bucket flag holds a bucket header (root pgid u64, sequence u64); root 0
 * means the bucket's single leaf page is stored inline right after that header.
 */

export const PAGE_HEADER_SIZE = 16;
export const ELEMENT_SIZE = 16;
export const BUCKET_HEADER_SIZE = 16;
export const META_SIZE = 64;
/** The checksum covers the meta up to the checksum field. */
export const META_CHECKSUMMED_BYTES = 56;

export const BBOLT_MAGIC = 0xed0cdaed;
export const BBOLT_VERSION = 2;

export const PageFlag = {
  branch: 0x01,
  leaf: 0x02,
  meta: 0x04,
  freelist: 0x10,
} as const;

export const BUCKET_LEAF_FLAG = 0x01;

/** meta.freelist when the freelist is not persisted (etcd 3.4 runs bbolt with NoFreelistSync). */
export const NO_FREELIST = 0xffffffffffffffffn;

export interface PageHeader {
  id: bigint;
  flags: number;
  count: number;
  overflow: number;
}

export function readPageHeader(buf: Buffer, offset = 0): PageHeader {
  return {
    id: buf.readBigUInt64LE(offset),
    flags: buf.readUInt16LE(offset + 8),
    count: buf.readUInt16LE(offset + 10),
    overflow: buf.readUInt32LE(offset + 12),
  };
}

export function pageKind(flags: number): string {
  switch (flags) {
    case PageFlag.branch:
      return 'branch';
    case PageFlag.leaf:
      return 'leaf';
    case PageFlag.meta:
      return 'meta';
    case PageFlag.freelist:
      return 'freelist';
    default:
      return `unknown (flags 0x${flags.toString(16)})`;
  }
}

export interface BboltMeta {
  magic: number;
  version: number;
  pageSize: number;
  flags: number;
  rootPgid: bigint;
  rootSequence: bigint;
  freelistPgid: bigint;
  /** The high water mark: pages [0, pgid) are in use. */
  pgid: bigint;
  txid: bigint;
  checksum: bigint;
}

/** Decodes the meta that follows the page header at `offset`. */
export function readMeta(buf: Buffer, offset: number): BboltMeta {
  return {
    magic: buf.readUInt32LE(offset),
    version: buf.readUInt32LE(offset + 4),
    pageSize: buf.readUInt32LE(offset + 8),
    flags: buf.readUInt32LE(offset + 12),
    rootPgid: buf.readBigUInt64LE(offset + 16),
    rootSequence: buf.readBigUInt64LE(offset + 24),
    freelistPgid: buf.readBigUInt64LE(offset + 32),
    pgid: buf.readBigUInt64LE(offset + 40),
    txid: buf.readBigUInt64LE(offset + 48),
    checksum: buf.readBigUInt64LE(offset + 56),
  };
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a, 64-bit: bbolt's meta checksum. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV64_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV64_PRIME) & MASK64;
  return h;
}
