import type { StoredKeyValue } from '../../api/mvccpb.js';
import { HashKvHasher, REVISION_KEY_BYTES, writeRevisionKey } from '../../api/revision.js';
import { ByteKeyTable } from '../../util/byte-key-table.js';
import { crc32c, crc32cCombine } from '../../util/crc32c.js';

export interface HashableRevision {
  main: number;
  sub: number;
  tombstone: boolean;
  kv: StoredKeyValue;
  /** The stored bytes: the marshalled mvccpb.KeyValue. */
  value: Buffer;
}

export interface KeepScan {
  /** Whether etcd's Keep(atRev) holds `r`, a revision at or below the compact revision. */
  keeps(r: { main: number; sub: number; kv: { key: Buffer } }): boolean;
  /** Keys alive at atRev; Keep(atRev) is empty exactly when this is 0. */
  liveKeys: number;
}

const KEPT_MAIN = 0;
const KEPT_SUB = 1;

/**
 * etcd 3.4's treeIndex.Keep(atRev) restricted to what HashByRev asks of it: for each key, the
 * latest revision at or below atRev, unless that is a tombstone. Only revisions at or below the
 * compact revision are looked up in it, and those come first in revision order, so only their
 * keys are remembered (ByteKeyTable: about 70 bytes plus the key each). Alive keys are counted
 * to know whether Keep is empty (then HashByRev skips nothing): alive at the compact revision,
 * plus creations (version 1) minus tombstones since.
 */
export async function scanKeep(revisions: AsyncIterable<HashableRevision>, atRev: number, compactRev: number): Promise<KeepScan> {
  const latest = new ByteKeyTable(2);
  let live: number | undefined;
  for await (const r of revisions) {
    if (r.main > atRev) break;
    if (r.main <= compactRev) {
      if (r.tombstone) {
        latest.delete(r.kv.key);
        continue;
      }
      const entry = latest.find(r.kv.key);
      const at = entry >= 0 ? entry : latest.add(r.kv.key);
      latest.set(at, KEPT_MAIN, r.main);
      latest.set(at, KEPT_SUB, r.sub);
      continue;
    }
    live ??= latest.size;
    latest.delete(r.kv.key);
    if (r.tombstone) live--;
    else if (r.kv.version === 1) live++;
  }
  return {
    keeps: (r) => {
      const entry = latest.find(r.kv.key);
      return entry >= 0 && latest.get(entry, KEPT_MAIN) === r.main && latest.get(entry, KEPT_SUB) === r.sub;
    },
    liveKeys: live ?? latest.size,
  };
}

/**
 * etcd 3.4's HashByRev(atRev) (mvcc/kvstore.go): CRC-32C of the bucket name "key" and every
 * revision key and value up to atRev, where revisions at or below the compact revision count
 * only if Keep(atRev) holds them (or Keep is empty). `revisions` is called once per pass and
 * must yield in revision order.
 */
export async function hashByRev(
  revisions: () => AsyncIterable<HashableRevision>,
  atRev: number,
  compactRev: number,
): Promise<number> {
  const keep = compactRev > 0 ? await scanKeep(revisions(), atRev, compactRev) : undefined;
  const hasher = new HashKvHasher();
  for await (const r of revisions()) {
    if (r.main > atRev) break;
    if (keep && r.main <= compactRev && keep.liveKeys > 0 && !keep.keeps(r)) continue;
    hasher.addRecord(r.main, r.sub, r.tombstone, r.value);
  }
  return hasher.digest();
}

/**
 * etcd 3.4's HashByRev at the last revision of a history that compaction has already thinned
 * (an archive, or an image whose compaction finished), in one pass over its revisions in order.
 * Every revision above the compact revision counts; one at or below it counts only while Keep
 * holds it, that is, until its key is written or deleted again. So those are the revisions
 * remembered, each as a CRC and a length under its key, and the ones still held are joined in
 * order at the end (crc32cCombine). Memory: about 70 bytes plus the key for each key compaction
 * kept (ByteKeyTable).
 */
export class LastRevisionHashKv {
  private readonly afterCompaction = new HashKvHasher({ bucketName: false });
  /** Revisions at or below the compact revision that Keep still holds, in revision order: CRC and length. */
  private readonly kept = new ByteKeyTable(2);
  private liveKeys: number | undefined;
  private readonly revisionKey = Buffer.alloc(REVISION_KEY_BYTES + 1);

  constructor(private readonly compactRevision: number) {}

  add(r: HashableRevision): void {
    const key = r.kv.key;
    if (r.main <= this.compactRevision) {
      // Deleted first so that a key's entry moves to its newest revision's place in the order.
      this.kept.delete(key);
      if (r.tombstone) return;
      const revisionKey = writeRevisionKey(this.revisionKey, r.main, r.sub, false);
      const entry = this.kept.add(key);
      this.kept.set(entry, KEPT_CRC, crc32c(r.value, crc32c(revisionKey)));
      this.kept.set(entry, KEPT_BYTES, revisionKey.length + r.value.length);
      return;
    }
    this.liveKeys ??= this.kept.size;
    this.kept.delete(key);
    if (r.tombstone) this.liveKeys--;
    else if (r.kv.version === 1) this.liveKeys++;
    this.afterCompaction.addRecord(r.main, r.sub, r.tombstone, r.value);
  }

  /**
   * `historyHash` is the hash over every revision (the archive's own, which its reader checks):
   * etcd's answer when no key is alive at the end, since Keep is empty then and nothing is skipped.
   */
  digest(historyHash: number): number {
    if ((this.liveKeys ?? this.kept.size) === 0) return historyHash;
    let crc = crc32c(Buffer.from('key'));
    this.kept.forEachLive((entry) => {
      crc = crc32cCombine(crc, this.kept.get(entry, KEPT_CRC), this.kept.get(entry, KEPT_BYTES));
    });
    return crc32cCombine(crc, this.afterCompaction.digest(), this.afterCompaction.bytes);
  }
}

const KEPT_CRC = 0;
const KEPT_BYTES = 1;
