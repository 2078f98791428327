import { Command } from 'commander';
import type { Member } from '../../api/etcd-types.js';
import type { EtcdClient } from '../../client/client.js';
import type { MemberListResponse } from '../../client/types.js';
import { UsageError } from '../../util/errors.js';
import { addClientFlags, withClient } from '../flags/client-flags.js';
import { addOutputFlags, outputFromFlags, type OutputSettings } from '../flags/output-flags.js';
import { etcdJson } from '../output/etcd-json.js';
import { printMemberList } from '../output/cluster-printers.js';
import { hexId } from '../output/go-format.js';
import { action } from '../run-action.js';

type Opts = Record<string, unknown>;

/** Member IDs are given in hex, as `member list` prints them. */
export function memberId(text: string): string {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) throw new UsageError(`bad member ID arg (${text}), expecting ID in Hex`);
  return BigInt(`0x${text}`).toString();
}

function peerUrls(opts: Opts): string[] {
  const urls = String(opts['peerUrls'] ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) throw new UsageError('member peer urls not provided; pass --peer-urls');
  return urls;
}

const id16 = (id: string): string => hexId(id).padStart(16, ' ');

/** The simple or JSON report of a membership change, as etcdctl prints it. */
function report(output: OutputSettings, type: string, resp: { header: MemberListResponse['header'] }, line: string): string {
  return output.format === 'json' ? `${etcdJson(`etcdserverpb.${type}`, resp).text}\n` : line;
}

export function registerMemberCommands(program: Command): void {
  const member = program.command('member').description('Membership related commands');
  const sub = (name: string, description: string): Command => addOutputFlags(addClientFlags(member.command(name).description(description)));

  sub('list', 'Lists all members in the cluster').action(
    action(async (opts: Opts) => {
      const output = outputFromFlags(opts);
      const resp = await withClient(opts, (client) => client.memberList());
      process.stdout.write(printMemberList(resp, output).out);
    }),
  );

  sub('add', 'Adds a member into the cluster')
    .argument('<name>', 'the new member\'s name')
    .option('--peer-urls <urls>', 'comma separated peer URLs for the new member')
    .option('--learner', 'indicates if the new member is raft learner')
    .action(
      action(async (name: string, opts: Opts) => {
        const output = outputFromFlags(opts, ['simple', 'json']);
        const urls = peerUrls(opts);
        const resp = await withClient(opts, (client) => client.memberAdd(urls, opts['learner'] === true));
        const added = resp.member;
        const clusterLine = (m: Member): string[] => m.peerURLs.map((u) => `${m.ID === added?.ID ? name : m.name}=${u}`);
        const text =
          `Member ${id16(added?.ID ?? '0')} added to cluster ${id16(resp.header?.cluster_id ?? '0')}\n\n` +
          `ETCD_NAME="${name}"\nETCD_INITIAL_CLUSTER="${resp.members.flatMap(clusterLine).join(',')}"\n` +
          `ETCD_INITIAL_ADVERTISE_PEER_URLS="${urls.join(',')}"\nETCD_INITIAL_CLUSTER_STATE="existing"\n`;
        process.stdout.write(report(output, 'MemberAddResponse', resp, text));
      }),
    );

  // remove, update and promote: a member ID in hex, one change, one line (etcdctl's wording).
  const changes = [
    { name: 'remove', description: 'Removes a member from the cluster', verb: 'removed from', type: 'MemberRemoveResponse', urls: false,
      run: (client: EtcdClient, id: string) => client.memberRemove(id) },
    { name: 'update', description: 'Updates a member in the cluster', verb: 'updated in', type: 'MemberUpdateResponse', urls: true,
      run: (client: EtcdClient, id: string, opts: Opts) => client.memberUpdate(id, peerUrls(opts)) },
    { name: 'promote', description: 'Promotes a non-voting member in the cluster', verb: 'promoted in', type: 'MemberPromoteResponse', urls: false,
      run: (client: EtcdClient, id: string) => client.memberPromote(id) },
  ];
  for (const change of changes) {
    const command = sub(change.name, change.description).argument('<memberID>', 'the member ID in hex');
    if (change.urls) command.option('--peer-urls <urls>', 'comma separated peer URLs for the updated member');
    command.action(
      action(async (idText: string, opts: Opts) => {
        const output = outputFromFlags(opts, ['simple', 'json']);
        const id = memberId(idText);
        const resp = await withClient(opts, (client) => change.run(client, id, opts));
        const line = `Member ${id16(id)} ${change.verb} cluster ${id16(resp.header?.cluster_id ?? '0')}\n`;
        process.stdout.write(report(output, change.type, resp, line));
      }),
    );
  }
}
