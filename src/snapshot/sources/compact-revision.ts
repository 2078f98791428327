import type { EtcdClient } from '../../client/client.js';
import { errorMessage } from '../../util/errors.js';

/** etcd's refusal of a read below its compact revision ("mvcc: required revision has been compacted"). */
export function isCompactedError(err: unknown): boolean {
  return /required revision has been compacted/.test(errorMessage(err));
}

/**
 * The cluster's compact revision, learned with reads alone: etcd refuses a Range below its
 * compact revision and serves one at it or above, so a binary search over 1..`revision` with
 * one-key Ranges of `probeKey` (which the caller may read) finds it in about log2(revision)
 * round trips. HashKV reports it in one call, but under auth only the root role may call it,
 * and etcd hashes its whole store first. `revision` must be one the cluster serves. 0 when
 * nothing was ever compacted (or only revision 1, which removes nothing).
 */
export async function findCompactRevision(client: EtcdClient, probeKey: Buffer, revision: number): Promise<number> {
  const served = async (at: number): Promise<boolean> => {
    try {
      await client.range({ key: probeKey, revision: String(at), limit: '1', count_only: true });
      return true;
    } catch (err) {
      if (isCompactedError(err)) return false;
      throw err;
    }
  };
  if (revision <= 1 || (await served(1))) return 0;
  // Revision `refused` is below the compact revision, `accepted` is at or above it.
  let refused = 1;
  let accepted = revision;
  while (accepted - refused > 1) {
    const middle = refused + Math.floor((accepted - refused) / 2);
    if (await served(middle)) accepted = middle;
    else refused = middle;
  }
  return accepted;
}
