import { createHash } from 'node:crypto';

/**
 * Member and cluster IDs as etcd derives them, so a strata cluster bootstrapped with the
 * same --initial-cluster and --initial-cluster-token has the IDs etcd would give it.
 */

/** SHA-1 of the sorted, concatenated peer URLs + cluster token (+ unix seconds for members added later). */
export function computeMemberId(peerUrls: readonly string[], clusterToken: string, addedAtUnixSeconds?: number): bigint {
  const joined = [...peerUrls].sort().join('');
  const suffix = addedAtUnixSeconds === undefined ? '' : String(addedAtUnixSeconds);
  const digest = createHash('sha1').update(joined + clusterToken + suffix).digest();
  return digest.readBigUInt64BE(0);
}

/** SHA-1 of the sorted member IDs as 8-byte big-endian values. */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(buf).digest().readBigUInt64BE(0);
}

/** etcd prints IDs as lower-case hex without leading zeros. */
export function formatId(id: bigint): string {
  return id.toString(16);
}
