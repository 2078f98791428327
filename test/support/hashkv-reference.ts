import { crc32c } from '../../src/util/crc32c.js';

/**
 * etcd's HashKV built the plain way, as the reference the hashers are checked against: CRC-32C
 * over "key", then each revision key (8-byte big-endian main, '_', 8-byte big-endian sub, 't' for
 * a tombstone) followed by its stored value.
 */
export function referenceHashKv(records: Iterable<{ main: number; sub: number; tombstone: boolean; value: Uint8Array }>): number {
  let crc = crc32c(Buffer.from('key'));
  for (const r of records) {
    const key = Buffer.alloc(r.tombstone ? 18 : 17);
    key.writeBigUInt64BE(BigInt(r.main), 0);
    key[8] = 0x5f;
    key.writeBigUInt64BE(BigInt(r.sub), 9);
    if (r.tombstone) key[17] = 0x74;
    crc = crc32c(r.value, crc32c(key, crc));
  }
  return crc;
}

/**
 * etcd's HashKV at the last revision of a history compaction thinned, the plain way: a revision
 * at or below the compact revision counts only if its key is never written after it, unless no
 * key is alive at the end (then etcd's Keep is empty and nothing is skipped).
 */
export function referenceEtcdHashKv(
  records: Array<{ main: number; sub: number; tombstone: boolean; key: Buffer; value: Uint8Array }>,
  compactRevision: number,
): number {
  const writtenAgain = new Set(records.filter((r) => r.main > compactRevision).map((r) => r.key.toString('latin1')));
  const last = new Map(records.map((r) => [r.key.toString('latin1'), r]));
  const anyAlive = [...last.values()].some((r) => !r.tombstone);
  return referenceHashKv(anyAlive ? records.filter((r) => r.main > compactRevision || !writtenAgain.has(r.key.toString('latin1'))) : records);
}
