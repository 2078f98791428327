import type { Command } from 'commander';
import { StrataError } from '../../util/errors.js';
import { addClientFlags, withClient } from '../flags/client-flags.js';
import { hexId } from '../output/go-format.js';
import { action } from '../run-action.js';
import { memberId } from './member.js';

/**
 * etcdctl's move-leader: only the leader can hand leadership over, so the endpoints are asked
 * for their status and the one that leads is asked to transfer.
 */
export function registerMoveLeaderCommand(program: Command): void {
  addClientFlags(program.command('move-leader').description('Transfers leadership to another member'))
    .argument('<transfereeID>', 'the member ID in hex to hand leadership to')
    .action(
      action(async (idText: string, opts: Record<string, unknown>) => {
        const transferee = memberId(idText);
        const from = await withClient(opts, async (client) => {
          for (const endpoint of client.endpoints) {
            const one = client.atEndpoint(endpoint);
            try {
              const status = await one.status().catch(() => undefined);
              if (status === undefined || status.leader !== status.header?.member_id) continue;
              await one.moveLeader(transferee);
              return status.leader;
            } finally {
              one.close();
            }
          }
          throw new StrataError('STRATA_NO_LEADER_ENDPOINT', 'Cannot move the leader: no endpoint given is the leader; pass the leader\'s client URL in --endpoints');
        });
        process.stdout.write(`Leadership transferred from ${hexId(from)} to ${hexId(transferee)}\n`);
      }),
    );
}
