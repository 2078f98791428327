import { EtcdError } from '../../api/etcd-errors.js';
import type { DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse } from '../../api/etcd-types.js';
import { toApiKeyValue } from '../mvcc/api-kv.js';
import { keyRangeOf } from '../mvcc/key-range.js';
import type { WriteTxn } from '../mvcc/write-txn.js';

export type PutResult = Omit<PutResponse, 'header'> & { revision: number };
export type DeleteRangeResult = Omit<DeleteRangeResponse, 'header'> & { revision: number };

const EMPTY = Buffer.alloc(0);

/**
 * etcd's applier Put inside a write transaction: ignore_value / ignore_lease take the current
 * value / lease and need the key to exist (keyNotFound), prev_kv returns the value it replaced.
 */
export function applyPut(txn: WriteTxn, req: PutRequest): PutResult {
  let value = req.value;
  let lease = BigInt(req.lease);
  let prev = undefined;
  if (req.ignore_value || req.ignore_lease || req.prev_kv) {
    prev = txn.range(keyRangeOf(req.key, EMPTY)).kvs[0];
  }
  if (req.ignore_value || req.ignore_lease) {
    if (!prev) throw new EtcdError('keyNotFound');
    if (req.ignore_value) value = prev.value;
    if (req.ignore_lease) lease = prev.lease;
  }
  const revision = txn.put(req.key, value, lease);
  return { prev_kv: req.prev_kv && prev ? toApiKeyValue(prev) : null, revision };
}

/** etcd's applier DeleteRange: prev_kvs are read before deleting; the revision moves only on a change. */
export function applyDeleteRange(txn: WriteTxn, req: DeleteRangeRequest): DeleteRangeResult {
  const range = keyRangeOf(req.key, req.range_end);
  const prevKvs = req.prev_kv ? txn.range(range).kvs.map((kv) => toApiKeyValue(kv)) : [];
  const deleted = txn.deleteRange(range);
  return { deleted: String(deleted), prev_kvs: prevKvs, revision: txn.deleteRangeRevision(deleted) };
}
