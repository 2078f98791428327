import type { KeyValue, RangeRequest, RangeResponse } from '../../api/etcd-types.js';
import type { StoredKeyValue } from '../../api/mvccpb.js';
import { toApiKeyValue } from '../mvcc/api-kv.js';
import { keyRangeOf, type KeyRange } from '../mvcc/key-range.js';
import type { RangeKeysOptions, RangeKeysResult } from '../mvcc/kv-store.js';

/** What a Range reads from: the store between applies, or a write transaction inside a txn. */
export interface RangeView {
  range(range: KeyRange, options: RangeKeysOptions): RangeKeysResult;
}

export type RangeResult = Omit<RangeResponse, 'header'> & { revision: number };

const numeric = (pick: (kv: StoredKeyValue) => number) => (a: StoredKeyValue, b: StoredKeyValue) => pick(a) - pick(b);

const comparators: Record<RangeRequest['sort_target'], (a: StoredKeyValue, b: StoredKeyValue) => number> = {
  KEY: (a, b) => Buffer.compare(a.key, b.key),
  VERSION: numeric((kv) => kv.version),
  CREATE: numeric((kv) => kv.createRevision),
  MOD: numeric((kv) => kv.modRevision),
  VALUE: (a, b) => Buffer.compare(a.value, b.value),
};

/**
 * etcd 3.4's applier Range: with a sort or a revision filter everything is fetched, filtered
 * (max/min mod, then max/min create), sorted, then cut to the limit; otherwise limit + 1 keys
 * are fetched to learn `more`. `count` is the number of keys in the range before filters and
 * limit. A sort target other than KEY with order NONE sorts ascending. Ties keep key order.
 */
export function applyRange(view: RangeView, req: RangeRequest): RangeResult {
  const limit = Number(req.limit);
  const minMod = Number(req.min_mod_revision);
  const maxMod = Number(req.max_mod_revision);
  const minCreate = Number(req.min_create_revision);
  const maxCreate = Number(req.max_create_revision);
  const fetchAll = req.sort_order !== 'NONE' || minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0;
  const fetchLimit = fetchAll || limit <= 0 ? 0 : limit + 1;

  const result = view.range(keyRangeOf(req.key, req.range_end), {
    revision: Number(req.revision),
    limit: fetchLimit,
    countOnly: req.count_only,
  });
  let kvs = result.kvs;
  if (maxMod !== 0) kvs = kvs.filter((kv) => kv.modRevision <= maxMod);
  if (minMod !== 0) kvs = kvs.filter((kv) => kv.modRevision >= minMod);
  if (maxCreate !== 0) kvs = kvs.filter((kv) => kv.createRevision <= maxCreate);
  if (minCreate !== 0) kvs = kvs.filter((kv) => kv.createRevision >= minCreate);

  let order = req.sort_order;
  if (req.sort_target !== 'KEY' && order === 'NONE') order = 'ASCEND';
  if (order !== 'NONE') {
    const compare = comparators[req.sort_target];
    const sign = order === 'DESCEND' ? -1 : 1;
    kvs = [...kvs].sort((a, b) => sign * compare(a, b));
  }
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  const out: KeyValue[] = kvs.map((kv) => toApiKeyValue(kv, req.keys_only));
  return { kvs: out, more, count: String(result.count), revision: result.revision };
}
