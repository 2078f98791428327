// Starts a cluster of `bin/strata server` processes on loopback, as the reference notes start etcd.
import { join } from 'node:path';
import { freePort, startStrata, type RunningProcess } from '../support/index.js';

export interface ClusterMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  running: RunningProcess | undefined;
}

export interface MemberPorts {
  name: string;
  clientUrl: string;
  peerUrl: string;
}

/** Timings short enough for a test, with etcd's 1:10 ratio. */
export const CLUSTER_TIMING = ['--heartbeat-interval', '50', '--election-timeout', '500'];

export async function memberPorts(name: string, peerScheme: 'http' | 'https' = 'http'): Promise<MemberPorts> {
  return { name, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `${peerScheme}://127.0.0.1:${await freePort()}` };
}

export function initialCluster(members: readonly MemberPorts[]): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

/** Starts one member and waits until it serves clients. */
export async function startMember(
  member: MemberPorts,
  options: { root: string; cluster: string; state: 'new' | 'existing'; token: string; extraArgs?: readonly string[] },
): Promise<ClusterMember> {
  const dataDir = join(options.root, member.name);
  const running = startStrata(
    [
      'server',
      '--name', member.name,
      '--data-dir', dataDir,
      '--listen-client-urls', member.clientUrl,
      '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl,
      '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', options.cluster,
      '--initial-cluster-state', options.state,
      '--initial-cluster-token', options.token,
      ...CLUSTER_TIMING,
      ...(options.extraArgs ?? []),
    ],
    { timeoutMs: 20 * 60_000 },
  );
  await running.waitFor((_out, err) => err.includes('"serving client traffic"'), 30_000, `${member.name} to serve`);
  return { ...member, dataDir, running };
}

/** Starts every member of a new cluster at once; with peerTls, peers talk https with those flags. */
export async function startStrataCluster(
  names: readonly string[],
  root: string,
  token: string,
  peerTls?: readonly string[],
): Promise<ClusterMember[]> {
  const ports = await Promise.all(names.map((name) => memberPorts(name, peerTls ? 'https' : 'http')));
  const cluster = initialCluster(ports);
  return Promise.all(ports.map((p) => startMember(p, { root, cluster, state: 'new', token, ...(peerTls ? { extraArgs: peerTls } : {}) })));
}

export async function stopCluster(members: readonly ClusterMember[]): Promise<void> {
  await Promise.all(members.map(async (m) => m.running?.stop('SIGTERM')));
}
