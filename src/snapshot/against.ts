import type { EtcdClient } from '../client/client.js';
import { IntegrityError, StrataError, errorMessage } from '../util/errors.js';
import type { SnapshotStatus } from './inspect.js';

/**
 * Compares a snapshot's hashKV with the live cluster's HashKV at the snapshot revision; throws
 * an IntegrityError on a mismatch and a plain error naming why when it cannot compare.
 */
export async function compareWithCluster(client: EtcdClient, status: SnapshotStatus): Promise<string> {
  if (status.hashKV === null) {
    throw new StrataError('STRATA_AGAINST_UNSUPPORTED', 'Cannot compare with the cluster: this snapshot holds only the latest keys (--method range), which HashKV does not cover');
  }
  let live;
  try {
    live = await client.hashKV(String(status.revision));
  } catch (err) {
    const text = errorMessage(err);
    if (/compacted/.test(text)) {
      throw new StrataError('STRATA_AGAINST_COMPACTED', `Cannot compare with the cluster: it was compacted past the snapshot's revision ${status.revision}`);
    }
    if (/future/.test(text)) {
      throw new StrataError('STRATA_AGAINST_FUTURE', `Cannot compare with the cluster: its revision is below the snapshot's revision ${status.revision} (a different cluster?)`);
    }
    throw err;
  }
  if (live.hash !== status.hashKV) {
    throw new IntegrityError(`Snapshot hashKV ${status.hashKV} differs from the cluster's HashKV ${live.hash} at revision ${status.revision}`);
  }
  return `hashKV ${live.hash} equals the cluster's at revision ${status.revision}`;
}
