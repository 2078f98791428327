import type { EtcdClient } from '../../client/client.js';
import { StrataError, errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

export interface PickedMember {
  /** A client bound to the chosen endpoint only. */
  client: EtcdClient;
  endpoint: string;
  clusterId: bigint;
  memberId: bigint;
  serverVersion: string;
}

/**
 * With several endpoints: the leader (each endpoint's status says who leads), else the first
 * healthy one. Says which in the log.
 */
export async function pickMember(client: EtcdClient, logger: Logger): Promise<PickedMember> {
  const failures: { endpoint: string; error: unknown }[] = [];
  let fallback: PickedMember | undefined;
  for (const endpoint of client.endpoints) {
    const one = client.atEndpoint(endpoint);
    try {
      const status = await one.status();
      const header = status.header;
      if (header === null) throw new Error('the status response has no header');
      const picked = { client: one, endpoint, clusterId: BigInt(header.cluster_id), memberId: BigInt(header.member_id), serverVersion: status.version };
      if (status.leader === header.member_id) {
        fallback?.client.close();
        logger.info(`snapshotting the leader at ${endpoint}`, { endpoint, member: picked.memberId.toString(16) });
        return picked;
      }
      if (fallback === undefined) fallback = picked;
      else one.close();
    } catch (err) {
      one.close();
      failures.push({ endpoint, error: err });
    }
  }
  if (fallback !== undefined) {
    logger.info(`no leader answered; snapshotting ${fallback.endpoint}`, { endpoint: fallback.endpoint });
    return fallback;
  }
  // One endpoint: its own error, whose message names it, with its code and exit code.
  if (failures.length === 1 && failures[0] !== undefined) throw failures[0].error;
  const reasons = failures.map(({ endpoint, error }) => {
    const message = errorMessage(error);
    return message.includes(endpoint) ? message : `${endpoint}: ${message}`;
  });
  throw new StrataError('STRATA_NO_ENDPOINT', `No endpoint answered: ${reasons.join('; ')}`);
}
