import http from 'node:http';
import https from 'node:https';
import { EtcdError } from '../../api/etcd-errors.js';
import { formatId } from '../membership/ids.js';
import { CLUSTER_ID_HEADER, LEASE_RENEW_PATH } from './peer-headers.js';
import type { PeerTlsOptions } from './peer-tls.js';

/**
 * A follower's lease keep-alive, forwarded to the leader over the peer URL as etcd forwards
 * it: only the leader's lessor decides expiry. Resolves with the TTL in seconds; a lease the
 * leader does not know is etcd's leaseNotFound, anything else is etcd's request timeout.
 */
export function renewOnLeader(peerUrl: string, id: bigint, clusterId: bigint, tls: PeerTlsOptions | undefined): Promise<number> {
  const url = new URL(`${LEASE_RENEW_PATH}/${id.toString()}`, peerUrl);
  const secure = url.protocol === 'https:';
  return new Promise<number>((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      { method: 'POST', timeout: 5000, headers: { [CLUSTER_ID_HEADER]: formatId(clusterId) }, ...(secure && tls ? tls : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => reject(new EtcdError('timeout')));
        res.on('end', () => {
          if (res.statusCode === 200) resolve(Number(Buffer.concat(chunks).toString('utf8')));
          else reject(new EtcdError(res.statusCode === 404 ? 'leaseNotFound' : 'timeout'));
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => reject(new EtcdError('timeout')));
    req.end();
  });
}
