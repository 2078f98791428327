import type { Event, KeyValue } from '../../api/etcd-types.js';
import type { StoredKeyValue } from '../../api/mvccpb.js';

const EMPTY = Buffer.alloc(0);

/** A stored KeyValue in the API's decoded shape (64-bit fields as decimal strings). */
export function toApiKeyValue(kv: StoredKeyValue, keysOnly = false): KeyValue {
  return {
    key: kv.key,
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    value: keysOnly ? EMPTY : kv.value,
    lease: kv.lease.toString(),
  };
}

/** A watch event: a DELETE's kv carries the key and the deleting revision only, as etcd sends it. */
export function toApiEvent(type: 'PUT' | 'DELETE', kv: StoredKeyValue, prevKv: StoredKeyValue | undefined): Event {
  return { type, kv: toApiKeyValue(kv), prev_kv: prevKv ? toApiKeyValue(prevKv) : null };
}
