/**
 * The tar layer, in the one canonical ustar form Strata writes: regular files, mode 0644,
 * uid/gid 0, no user names, no long names. The reader re-encodes every header it reads and
 * demands the same bytes, zero padding and exactly two zero blocks at the end, so that every
 * byte of the tar stream is either checked or covered by an entry's SHA-256. GNU and BSD tar
 * read it as plain ustar.
 */
export const TAR_BLOCK = 512;
export const TAR_END = Buffer.alloc(2 * TAR_BLOCK);

const MAX_SIZE = 8 ** 11 - 1;
const namePattern = /^[A-Za-z0-9._/-]{1,99}$/;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

export function tarHeader(name: string, size: number, mtimeSeconds: number): Buffer {
  if (!namePattern.test(name)) throw new RangeError(`tar entry name '${name}' is not a short ASCII path`);
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_SIZE) throw new RangeError(`tar entry size ${size} out of range`);
  const block = Buffer.alloc(TAR_BLOCK);
  block.write(name, 0, 'ascii');
  block.write(octal(0o644, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(mtimeSeconds, 12), 136, 'ascii');
  block.write('0', 156, 'ascii');
  block.write('ustar\u000000', 257, 'ascii');
  block.write(octal(0, 8), 329, 'ascii');
  block.write(octal(0, 8), 337, 'ascii');
  block.write('        ', 148, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

export function tarPadding(size: number): Buffer {
  return Buffer.alloc((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK);
}

export interface TarEntryHeader {
  name: string;
  size: number;
  mtimeSeconds: number;
}

function readOctal(block: Buffer, offset: number, width: number, field: string): number {
  const text = block.toString('ascii', offset, offset + width - 1);
  if (!/^[0-7]+$/.test(text) || block[offset + width - 1] !== 0) throw new Error(`tar header ${field} field is not octal`);
  return parseInt(text, 8);
}

/** 'end' for a zero block; otherwise the header, or an Error saying why the block is not one. */
export function parseTarHeader(block: Buffer): TarEntryHeader | 'end' {
  if (block.every((byte) => byte === 0)) return 'end';
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  if (readOctal(block, 148, 7, 'checksum') !== sum) throw new Error('tar header checksum mismatch');
  const nul = block.indexOf(0);
  const name = block.toString('ascii', 0, nul < 0 || nul > 100 ? 100 : nul);
  const header = { name, size: readOctal(block, 124, 12, 'size'), mtimeSeconds: readOctal(block, 136, 12, 'mtime') };
  let canonical: Buffer;
  try {
    canonical = tarHeader(header.name, header.size, header.mtimeSeconds);
  } catch (err) {
    throw new Error(`tar header is not one Strata writes (${(err as Error).message})`);
  }
  if (!canonical.equals(block)) throw new Error(`tar header of '${name}' is not one Strata writes`);
  return header;
}
