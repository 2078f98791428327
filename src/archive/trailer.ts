import { asCount, asObject, asString, type JsonObject } from './json-fields.js';

/** etcd's HashKV response at the snapshot revision, as the archive recomputes it. */
export interface ArchiveHashKv {
  /** The history hash: HashKV's algorithm over every record (an unsigned 32-bit CRC-32C). */
  hash: number;
  /**
   * etcd's HashKV at `revision`, as `etcdctl endpoint hashkv --rev` gives it: for a compacted
   * history it leaves out a compaction-kept revision whose key was written again. Format 1.1.
   */
  etcdHash?: number;
  revision: number;
  compactRevision: number;
}

export interface ArchiveTrailer {
  recordCount: number;
  /** Keys that exist at the snapshot revision. */
  keyCount: number;
  leaseCount: number;
  /** Absent (null) for `latest` archives, whose records are not what HashKV covers. */
  hashKV: ArchiveHashKv | null;
  /** SHA-256 (lowercase hex) of every entry before the trailer, in archive order. */
  entries: Record<string, string>;
}

const sha256Hex = /^[0-9a-f]{64}$/;

export function parseTrailer(obj: JsonObject): ArchiveTrailer {
  const entriesObj = asObject(obj.entries, 'trailer entries');
  const entries: Record<string, string> = {};
  for (const [name, digest] of Object.entries(entriesObj)) {
    const hex = asString(digest, `trailer entries['${name}']`);
    if (!sha256Hex.test(hex)) throw new Error(`trailer entries['${name}'] is not a SHA-256`);
    entries[name] = hex;
  }
  let hashKV: ArchiveHashKv | null = null;
  if (obj.hashKV !== null) {
    const h = asObject(obj.hashKV, 'trailer hashKV');
    const crc = (value: unknown, name: string): number => {
      const n = asCount(value, name);
      if (n > 0xffffffff) throw new Error(`${name} is above 2^32`);
      return n;
    };
    hashKV = {
      hash: crc(h.hash, 'hashKV.hash'),
      ...(h.etcdHash !== undefined ? { etcdHash: crc(h.etcdHash, 'hashKV.etcdHash') } : {}),
      revision: asCount(h.revision, 'hashKV.revision'),
      compactRevision: asCount(h.compactRevision, 'hashKV.compactRevision'),
    };
  }
  return {
    ...obj,
    recordCount: asCount(obj.recordCount, 'trailer recordCount'),
    keyCount: asCount(obj.keyCount, 'trailer keyCount'),
    leaseCount: asCount(obj.leaseCount, 'trailer leaseCount'),
    hashKV,
    entries,
  };
}
