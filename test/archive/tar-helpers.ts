// Tar and zstd by hand, for tests that take an archive apart and rebuild it.
import { createHash } from 'node:crypto';
import type { Transform } from 'node:stream';
import { loadZstdCodec } from '../../src/archive/index.js';
import { TAR_END, tarHeader, tarPadding } from '../../src/archive/tar.js';

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function tarOf(entries: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of entries) parts.push(tarHeader(name, data.length, 1700000000), data, tarPadding(data.length));
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

export function untar(tar: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos + 512 <= tar.length && tar[pos] !== 0) {
    const name = tar.toString('ascii', pos, tar.indexOf(0, pos));
    const size = parseInt(tar.toString('ascii', pos + 124, pos + 135), 8);
    out.set(name, tar.subarray(pos + 512, pos + 512 + size));
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

async function pipeThrough(transform: Transform, data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of transform) chunks.push(c as Buffer);
  })();
  transform.end(data);
  await done;
  return Buffer.concat(chunks);
}

export function compress(data: Buffer): Promise<Buffer> {
  return pipeThrough(loadZstdCodec().compressor(3), data);
}

export function decompress(data: Buffer): Promise<Buffer> {
  return pipeThrough(loadZstdCodec().decompressor(), data);
}

