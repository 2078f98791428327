/** S3 assembles one object from at most this many parts. */
export const MAX_PARTS = 10_000;
/** Parts keep one size for this many, then double. */
const PARTS_PER_SIZE = 1000;
/** Parts stop growing here: the writer holds (queueSize + 1) of them. */
const MAX_PART_BYTES = 64 * 1024 * 1024;

/**
 * The size of the part at `index` (0-based) of an upload whose first part is `firstPartBytes`.
 * An archive's size is not known while it streams, so parts start small (an 8 GiB etcd image
 * makes about 3 GiB of archive: 600 parts of 5 MiB) and grow only for archives that would
 * otherwise run out of S3's 10,000 parts: with 5 MiB first parts they hold 448 GiB.
 */
export function partBytes(index: number, firstPartBytes: number): number {
  const grown = firstPartBytes * 2 ** Math.floor(index / PARTS_PER_SIZE);
  return Math.max(firstPartBytes, Math.min(grown, MAX_PART_BYTES));
}

/** The most one object of `maxParts` parts can hold when they follow partBytes. */
export function maxObjectBytes(firstPartBytes: number, maxParts = MAX_PARTS): number {
  let total = 0;
  for (let index = 0; index < maxParts; index++) total += partBytes(index, firstPartBytes);
  return total;
}
