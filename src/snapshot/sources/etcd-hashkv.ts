import type { StoredKeyValue } from '../../api/mvccpb.js';
import { HashKvHasher } from '../../api/revision.js';

export interface HashableRevision {
  main: number;
  sub: number;
  tombstone: boolean;
  kv: StoredKeyValue;
  /** The stored bytes: the marshalled mvccpb.KeyValue. */
  value: Buffer;
}

export interface KeepScan {
  /** Revisions at or below the compact revision that etcd's Keep(atRev) holds, as `main_sub`. */
  kept: Set<string>;
  /** Keys alive at atRev; Keep(atRev) is empty exactly when this is 0. */
  liveKeys: number;
}

/** How kept revisions are named in KeepScan.kept. */
export const revisionId = (r: { main: number; sub: number }): string => `${r.main}_${r.sub}`;

/**
 * etcd 3.4's treeIndex.Keep(atRev) restricted to what HashByRev asks of it: for each key, the
 * latest revision at or below atRev, unless that is a tombstone. Only revisions at or below the
 * compact revision are looked up in it, and those come first in revision order, so only their
 * keys are remembered. Alive keys are counted to know whether Keep is empty (then HashByRev
 * skips nothing): alive at the compact revision, plus creations (version 1) minus tombstones since.
 */
export async function scanKeep(revisions: AsyncIterable<HashableRevision>, atRev: number, compactRev: number): Promise<KeepScan> {
  const latest = new Map<string, string>();
  let live: number | undefined;
  for await (const r of revisions) {
    if (r.main > atRev) break;
    const key = r.kv.key.toString('latin1');
    if (r.main <= compactRev) {
      if (r.tombstone) latest.delete(key);
      else latest.set(key, revisionId(r));
      continue;
    }
    live ??= latest.size;
    latest.delete(key);
    if (r.tombstone) live--;
    else if (r.kv.version === 1) live++;
  }
  return { kept: new Set(latest.values()), liveKeys: live ?? latest.size };
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
    if (keep && r.main <= compactRev && keep.liveKeys > 0 && !keep.kept.has(revisionId(r))) continue;
    hasher.addRecord(r.main, r.sub, r.tombstone, r.value);
  }
  return hasher.digest();
}
