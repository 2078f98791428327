import { Command } from 'commander';
import type { Member } from '../../api/etcd-types.js';
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
function memberId(text: string): string {
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
        const clusterLine = (m: Member): string[] =>
          m.ID === added?.ID ? m.peerURLs.map((u) => `${name}=${u}`) : m.name === '' ? [] : m.peerURLs.map((u) => `${m.name}=${u}`);
        const text =
          `Member ${id16(added?.ID ?? '0')} added to cluster ${id16(resp.header?.cluster_id ?? '0')}\n\n` +
          `ETCD_NAME="${name}"\nETCD_INITIAL_CLUSTER="${resp.members.flatMap(clusterLine).join(',')}"\n` +
          `ETCD_INITIAL_ADVERTISE_PEER_URLS="${urls.join(',')}"\nETCD_INITIAL_CLUSTER_STATE="existing"\n`;
        process.stdout.write(report(output, 'MemberAddResponse', resp, text));
      }),
    );

  sub('remove', 'Removes a member from the cluster')
    .argument('<memberID>', 'the member ID in hex')
    .action(
      action(async (idText: string, opts: Opts) => {
        const output = outputFromFlags(opts, ['simple', 'json']);
        const id = memberId(idText);
        const resp = await withClient(opts, (client) => client.memberRemove(id));
        process.stdout.write(report(output, 'MemberRemoveResponse', resp, `Member ${id16(id)} removed from cluster ${id16(resp.header?.cluster_id ?? '0')}\n`));
      }),
    );

  sub('update', 'Updates a member in the cluster')
    .argument('<memberID>', 'the member ID in hex')
    .option('--peer-urls <urls>', 'comma separated peer URLs for the updated member')
    .action(
      action(async (idText: string, opts: Opts) => {
        const output = outputFromFlags(opts, ['simple', 'json']);
        const id = memberId(idText);
        const resp = await withClient(opts, (client) => client.memberUpdate(id, peerUrls(opts)));
        process.stdout.write(report(output, 'MemberUpdateResponse', resp, `Member ${id16(id)} updated in cluster ${id16(resp.header?.cluster_id ?? '0')}\n`));
      }),
    );

  sub('promote', 'Promotes a non-voting member in the cluster')
    .argument('<memberID>', 'the member ID in hex')
    .action(
      action(async (idText: string, opts: Opts) => {
        const output = outputFromFlags(opts, ['simple', 'json']);
        const id = memberId(idText);
        const resp = await withClient(opts, (client) => client.memberPromote(id));
        process.stdout.write(report(output, 'MemberPromoteResponse', resp, `Member ${id16(id)} promoted in cluster ${id16(resp.header?.cluster_id ?? '0')}\n`));
      }),
    );
}
