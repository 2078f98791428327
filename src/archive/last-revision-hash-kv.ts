import { HashKvHasher, REVISION_KEY_BYTES, writeRevisionKey, type HashableRevision } from '../api/revision.js';
import type { ByteKeyTable } from '../util/byte-key-table.js';
import { crc32c, crc32cCombine } from '../util/crc32c.js';
import { SpillingKeyTable } from '../util/spilling-key-table.js';
import { SpillingU32Log } from '../util/spilling-u32-log.js';

/**
 * etcd 3.4's HashByRev at the last revision of a history that compaction has already thinned
 * (an archive, or an image whose compaction finished), in one pass over its revisions in order.
 * Every revision above the compact revision counts; one at or below it counts only while Keep
 * holds it, that is, until its key is written or deleted again. So each of those is numbered in
 * revision order with its CRC and length noted (SpillingU32Log), its key's entry remembers the
 * number until the key is written again (SpillingKeyTable), and the ones still held are joined
 * in order at the end (crc32cCombine). Memory stays bounded whatever the number of keys.
 */
export interface LastRevisionHashKvOptions {
  /** What the hash is part of, for errors about its temporary files. */
  purpose?: string;
  /** Memory for the per-key table before it goes to temporary files. */
  memoryBytes?: number;
  directory?: string;
}

/** What a revision does to its key's kept revision. */
const KEEPS = 0;
const DELETES = 1;
const WRITES_AGAIN = 2;
/** Per key: the number of its kept revision, or -1 once the key was written again. */
const KEPT = 0;

export class LastRevisionHashKv {
  private readonly afterCompaction = new HashKvHasher({ bucketName: false });
  private readonly kept: SpillingKeyTable;
  /** CRC and length of each revision at or below the compact revision, by its number. */
  private readonly keptCrcs: SpillingU32Log;
  private readonly record = new Float64Array(2);
  private readonly crcAndLength = new Uint32Array(2);
  /** Creations minus tombstones above the compact revision. */
  private liveSinceCompaction = 0;
  private readonly revisionKey = Buffer.alloc(REVISION_KEY_BYTES + 1);

  constructor(
    private readonly compactRevision: number,
    options: LastRevisionHashKvOptions = {},
  ) {
    const purpose = options.purpose ?? "compute etcd's HashKV";
    const spill = { ...(options.memoryBytes !== undefined ? { memoryBytes: options.memoryBytes } : {}), ...(options.directory !== undefined ? { directory: options.directory } : {}) };
    this.kept = new SpillingKeyTable({ stateFields: 1, recordFields: 2, apply: applyToKept, purpose, ...spill });
    this.keptCrcs = new SpillingU32Log({ width: 2, purpose, ...spill });
  }

  add(r: HashableRevision): void {
    const record = this.record;
    if (r.main <= this.compactRevision) {
      if (r.tombstone) {
        record[0] = DELETES;
      } else {
        const revisionKey = writeRevisionKey(this.revisionKey, r.main, r.sub, false);
        this.crcAndLength[0] = crc32c(r.value, crc32c(revisionKey));
        this.crcAndLength[1] = revisionKey.length + r.value.length;
        record[0] = KEEPS;
        record[1] = this.keptCrcs.push(this.crcAndLength);
      }
      this.kept.add(r.kv.key, record);
      return;
    }
    record[0] = WRITES_AGAIN;
    this.kept.add(r.kv.key, record);
    if (r.tombstone) this.liveSinceCompaction--;
    else if (r.kv.version === 1) this.liveSinceCompaction++;
    this.afterCompaction.addRecord(r.main, r.sub, r.tombstone, r.value);
  }

  /**
   * `historyHash` is the hash over every revision (the archive's own, which its reader checks):
   * etcd's answer when no key is alive at the end, since Keep is empty then and nothing is skipped.
   */
  digest(historyHash: number): number {
    try {
      let keysAtCompaction = 0;
      const held = new Uint8Array(Math.ceil(this.keptCrcs.length / 8));
      this.kept.finish((table) => {
        keysAtCompaction += table.size;
        table.forEachLive((entry) => {
          const kept = table.get(entry, KEPT);
          if (kept >= 0) held[kept >>> 3]! |= 1 << (kept & 7);
        });
      });
      if (keysAtCompaction + this.liveSinceCompaction === 0) return historyHash;
      let crc = crc32c(Buffer.from('key'));
      this.keptCrcs.forEach((index, [revisionCrc, length]) => {
        if ((held[index >>> 3]! & (1 << (index & 7))) !== 0) crc = crc32cCombine(crc, revisionCrc!, length!);
      });
      return crc32cCombine(crc, this.afterCompaction.digest(), this.afterCompaction.bytes);
    } finally {
      this.close();
    }
  }

  /** Removes temporary files when reading stops before digest(). */
  close(): void {
    this.kept.close();
    this.keptCrcs.close();
  }
}

/** Keep(atRev) holds a key's latest revision at or below it unless that is a tombstone. */
function applyToKept(table: ByteKeyTable, key: Buffer, record: Float64Array): void {
  const action = record[0]!;
  if (action === DELETES) {
    table.delete(key);
    return;
  }
  const entry = table.find(key);
  if (action === KEEPS) table.set(entry >= 0 ? entry : table.add(key), KEPT, record[1]!);
  else if (entry >= 0) table.set(entry, KEPT, -1);
}
