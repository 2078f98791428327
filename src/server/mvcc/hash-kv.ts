import { EtcdError } from '../../api/etcd-errors.js';
import { HashKvHasher } from '../../api/revision.js';
import type { MvccStore } from './kv-store.js';

export interface HashKvResult {
  hash: number;
  compactRevision: number;
  hashRevision: number;
  currentRevision: number;
}

const PAGE = 1000;

/**
 * etcd 3.4's HashByRev, bit for bit: CRC-32C of "key", then every stored revision up to the
 * hash revision in revision order (revision key, then marshalled KeyValue). Revisions at or
 * below the compact revision count only when etcd's keyIndex.keep(hashRevision) keeps them,
 * that is when they are a put and still the key's latest revision at the hash revision; and,
 * etcd's quirk, that filter applies only when keep is not empty (some key exists at the hash
 * revision). Revisions removed by physical compaction are simply gone, as in etcd's bucket.
 */
export function hashKV(store: MvccStore, revision: number): HashKvResult {
  const compactRev = store.compactRevision;
  const currentRev = store.currentRevision;
  if (revision > 0 && revision <= compactRev) throw new EtcdError('compacted');
  if (revision > 0 && revision > currentRev) throw new EtcdError('futureRev');
  const rev = revision === 0 ? currentRev : revision;
  const tables = store.tables;
  const filterCompacted = tables.anyKeyAt(rev, rev === currentRev);
  const hasher = new HashKvHasher();
  let cursor = { main: 0, sub: -1 };
  for (;;) {
    const rows = tables.revisionsAfter(cursor.main, cursor.sub, rev, PAGE);
    for (const row of rows) {
      if (row.main <= compactRev && filterCompacted) {
        const kept = !row.tomb && !tables.hasRevisionBetween(row.key, row.main, rev);
        if (!kept) continue;
      }
      hasher.addRecord(row.main, row.sub, row.tomb, row.kv);
    }
    const last = rows[rows.length - 1];
    if (!last || rows.length < PAGE) break;
    cursor = { main: last.main, sub: last.sub };
  }
  return { hash: hasher.digest(), compactRevision: compactRev, hashRevision: rev, currentRevision: currentRev };
}
