import { HashKvHasher, type HashableRevision } from '../../api/revision.js';
import { ByteKeyTable } from '../../util/byte-key-table.js';

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
