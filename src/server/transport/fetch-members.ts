import http from 'node:http';
import https from 'node:https';
import { StrataError, errorMessage } from '../../util/errors.js';
import type { StoredMember } from '../backend/members.js';
import { memberFromJson } from '../membership/member-json.js';
import { MEMBERS_PATH } from './peer-headers.js';
import type { PeerTlsOptions } from './peer-tls.js';

export interface RemoteCluster {
  clusterId: bigint;
  members: StoredMember[];
}

/**
 * Asks the running members at `peerUrls` who is in the cluster, as a member started with
 * --initial-cluster-state existing does before it joins. The first answer that `includes`
 * accepts wins: a member that has not yet applied the latest `member add` answers without the
 * new member, so the others are asked too before that answer is taken.
 */
export async function fetchClusterMembers(
  peerUrls: readonly string[],
  tls: PeerTlsOptions | undefined,
  includes: (cluster: RemoteCluster) => boolean,
): Promise<RemoteCluster> {
  const reasons: string[] = [];
  let first: RemoteCluster | undefined;
  for (const base of peerUrls) {
    try {
      const cluster = await getMembers(new URL(MEMBERS_PATH, base), tls);
      if (includes(cluster)) return cluster;
      first ??= cluster;
    } catch (err) {
      reasons.push(`${base}: ${errorMessage(err)}`);
    }
  }
  if (first !== undefined) return first;
  throw new StrataError(
    'STRATA_JOIN_FAILED',
    `Cannot join the cluster: no member in --initial-cluster answered (${reasons.join('; ') || 'no other member listed'}); start the running members first or fix --initial-cluster`,
  );
}

function getMembers(url: URL, tls: PeerTlsOptions | undefined): Promise<RemoteCluster> {
  const secure = url.protocol === 'https:';
  return new Promise<RemoteCluster>((resolve, reject) => {
    const req = (secure ? https : http).get(url, { timeout: 5000, ...(secure && tls ? tls : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { clusterId: string; members: unknown[] };
          resolve({ clusterId: BigInt(body.clusterId), members: body.members.map((m) => memberFromJson(m, `the member list from ${url.href}`)) });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
  });
}
