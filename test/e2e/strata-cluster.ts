// Starts a cluster of `bin/strata server` processes on loopback, as the reference notes start etcd.
import { join } from 'node:path';
import { freePort, startStrata, type PeerNetwork, type RunningProcess } from '../support/index.js';

export interface ClusterMember extends MemberPorts {
  dataDir: string;
  running: RunningProcess | undefined;
}

export interface MemberPorts {
  name: string;
  clientUrl: string;
  /** The advertised peer URL (a proxy's, when the member sits behind one). */
  peerUrl: string;
  /** Where the member really listens for peers, when not at peerUrl. */
  listenPeerUrl?: string;
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
  options: {
    root: string;
    cluster: string;
    state: 'new' | 'existing';
    token: string;
    extraArgs?: readonly string[];
    /** Called as soon as the process exists, before it dials peers (a proxy needs its pid). */
    onSpawn?: (running: RunningProcess) => void;
  },
): Promise<ClusterMember> {
  const dataDir = join(options.root, member.name);
  const running = startStrata(
    [
      'server',
      '--name', member.name,
      '--data-dir', dataDir,
      '--listen-client-urls', member.clientUrl,
      '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.listenPeerUrl ?? member.peerUrl,
      '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', options.cluster,
      '--initial-cluster-state', options.state,
      '--initial-cluster-token', options.token,
      ...CLUSTER_TIMING,
      ...(options.extraArgs ?? []),
    ],
    { timeoutMs: 20 * 60_000 },
  );
  options.onSpawn?.(running);
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
  return startAll(ports, (p, onSpawn) => startMember(p, { root, cluster, state: 'new', token, ...(peerTls ? { extraArgs: peerTls } : {}), onSpawn }));
}

/**
 * Starts every member at once. If one fails (its port was taken, say), the members that did
 * start are killed before the error goes on: nobody else holds them, and left running they
 * would keep the test process alive.
 */
export async function startAll(
  ports: readonly MemberPorts[],
  start: (member: MemberPorts, onSpawn: (running: RunningProcess) => void) => Promise<ClusterMember>,
): Promise<ClusterMember[]> {
  const spawned: RunningProcess[] = [];
  const started = await Promise.allSettled(ports.map((p) => start(p, (running) => spawned.push(running))));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(spawned.map((running) => running.stop('SIGKILL')));
    throw failed.reason;
  }
  return started.map((s) => (s as PromiseFulfilledResult<ClusterMember>).value);
}

/**
 * Starts a new cluster whose members each sit behind a proxy of `network`: a member listens
 * on its own peer port and advertises its proxy's, so every peer link crosses the network.
 * Restart a member with startMember(member, { …, onSpawn: proxiedSpawn(network, member) }).
 */
export async function startProxiedCluster(
  names: readonly string[],
  root: string,
  token: string,
  network: PeerNetwork,
  extraArgs: readonly string[] = [],
): Promise<ClusterMember[]> {
  const ports = await Promise.all(
    names.map(async (name): Promise<MemberPorts> => {
      const listenPort = await freePort();
      const proxyPort = await network.addMember(name, listenPort);
      return { name, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${proxyPort}`, listenPeerUrl: `http://127.0.0.1:${listenPort}` };
    }),
  );
  const cluster = initialCluster(ports);
  return startAll(ports, (p, onSpawn) => {
    const tellProxies = proxiedSpawn(network, p);
    return startMember(p, {
      root,
      cluster,
      state: 'new',
      token,
      extraArgs,
      onSpawn: (running) => {
        onSpawn(running);
        tellProxies(running);
      },
    });
  });
}

/** Tells the proxies which process is `member` now. */
export function proxiedSpawn(network: PeerNetwork, member: MemberPorts): (running: RunningProcess) => void {
  return (running) => network.setPid(member.name, running.child.pid);
}

export async function stopCluster(members: readonly ClusterMember[]): Promise<void> {
  await Promise.all(members.map(async (m) => m.running?.stop('SIGTERM')));
}
