import { HashKvHasher, type HashableRevision } from '../../api/revision.js';
import { KeptRevisions } from '../../archive/kept-revisions.js';

export interface KeepScan {
  /**
   * A new pass over the same revisions: the function answers whether etcd's Keep(atRev) holds
   * each revision at or below the compact revision, and must be given every one of them, in order.
   */
  pass(): (r: { main: number; tombstone: boolean }) => boolean;
  /** Keys alive at atRev; Keep(atRev) is empty exactly when this is 0. */
  liveKeys: number;
}

/**
 * etcd 3.4's treeIndex.Keep(atRev) restricted to what HashByRev asks of it: for each key, the
 * latest revision at or below atRev, unless that is a tombstone (KeptRevisions: per-key state in
 * bounded memory). The answers are by position, for a second pass over the same revisions.
 */
export async function scanKeep(revisions: AsyncIterable<HashableRevision>, atRev: number, compactRev: number, purpose?: string): Promise<KeepScan> {
  const kept = new KeptRevisions(compactRev, { purpose });
  try {
    for await (const r of revisions) {
      if (r.main > atRev) break;
      kept.add(r.main, r.tombstone, r.kv.key, r.kv.version);
    }
  } catch (err) {
    kept.close();
    throw err;
  }
  const { holds, liveKeys } = kept.finish();
  return {
    pass: () => {
      let puts = 0;
      return (r) => !r.tombstone && holds(puts++);
    },
    liveKeys,
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
  purpose?: string,
): Promise<number> {
  const keep = compactRev > 0 ? await scanKeep(revisions(), atRev, compactRev, purpose) : undefined;
  const keeps = keep?.pass();
  const keepIsEmpty = keep?.liveKeys === 0;
  const hasher = new HashKvHasher();
  for await (const r of revisions()) {
    if (r.main > atRev) break;
    // keeps() goes first: it must see every revision at or below the compact revision.
    if (keeps !== undefined && r.main <= compactRev && !keeps(r) && !keepIsEmpty) continue;
    hasher.addRecord(r.main, r.sub, r.tombstone, r.value);
  }
  return hasher.digest();
}
