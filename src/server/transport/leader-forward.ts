import http from 'node:http';
import https from 'node:https';
import { EtcdError, EtcdErrors, type EtcdErrorName } from '../../api/etcd-errors.js';
import { formatId } from '../membership/ids.js';
import type { ReconfigChange } from '../membership/strict-reconfig.js';
import { CLUSTER_ID_HEADER, LEASE_RENEW_PATH, LEASE_TTL_PATH, MEMBER_PROMOTE_PATH, RECONFIG_CHECK_PATH } from './peer-headers.js';
import type { PeerTlsOptions } from './peer-tls.js';

/** The status a peer answers a forwarded request with when it failed with an etcd error (named in the body). */
export const ETCD_ERROR_STATUS = 409;

export interface LeaderLink {
  peerUrl: string;
  clusterId: bigint;
  tls: PeerTlsOptions | undefined;
}

/**
 * Requests only the leader can answer, forwarded from a follower over the peer URL as etcd
 * forwards them: lease keep-alives and time-to-live (only the leader's lessor decides expiry), learner
 * promotion (only the leader knows how far the learner has caught up), and the strict
 * reconfig check (only the leader talks to every member). An etcd error the
 * leader raised comes back as itself; an unreachable leader is etcd's request timeout.
 */
export async function renewOnLeader(leader: LeaderLink, id: bigint): Promise<number> {
  return Number(await postToLeader(leader, `${LEASE_RENEW_PATH}/${id.toString()}`));
}

/** The lease's remaining and granted TTL in seconds, as the leader's lessor has them. */
export async function timeToLiveOnLeader(leader: LeaderLink, id: bigint): Promise<{ ttl: number; grantedTtl: number }> {
  const [ttl, grantedTtl] = (await postToLeader(leader, `${LEASE_TTL_PATH}/${id.toString()}`)).split(' ').map(Number);
  return { ttl: ttl ?? 0, grantedTtl: grantedTtl ?? 0 };
}

export async function promoteOnLeader(leader: LeaderLink, id: bigint): Promise<void> {
  await postToLeader(leader, `${MEMBER_PROMOTE_PATH}/${id.toString()}`);
}

export async function checkReconfigOnLeader(leader: LeaderLink, change: ReconfigChange): Promise<void> {
  await postToLeader(leader, `${RECONFIG_CHECK_PATH}/${reconfigCheckPath(change)}`);
}

/** The path after RECONFIG_CHECK_PATH naming `change`. */
export function reconfigCheckPath(change: ReconfigChange): string {
  if (change.kind === 'remove') return `remove/${change.id.toString()}`;
  return change.isLearner ? 'add-learner' : 'add-voter';
}

function postToLeader(leader: LeaderLink, path: string): Promise<string> {
  const url = new URL(path, leader.peerUrl);
  const secure = url.protocol === 'https:';
  return new Promise<string>((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      { method: 'POST', timeout: 5000, headers: { [CLUSTER_ID_HEADER]: formatId(leader.clusterId) }, ...(secure && leader.tls ? leader.tls : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => reject(new EtcdError('timeout')));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8').trim();
          if (res.statusCode === 200) resolve(body);
          else if (res.statusCode === ETCD_ERROR_STATUS && body in EtcdErrors) reject(new EtcdError(body as EtcdErrorName));
          else reject(new EtcdError('timeout'));
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => reject(new EtcdError('timeout')));
    req.end();
  });
}
