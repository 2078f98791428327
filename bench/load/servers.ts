// The servers a benchmark compares, one member or three, each started on loopback in temporary
// dirs and registered with the bench's cleanup, so nothing outlives the run.
import { join } from 'node:path';
import { EtcdClient } from '../../src/client/client.js';
import { eventually, tempDir } from '../../test/support/index.js';
import { startEtcd, startEtcdCluster } from '../../test/support/etcd.js';
import { startStrataServer } from '../../test/e2e/strata-server.js';
import { CLUSTER_TIMING, initialCluster, memberPorts, startMember, type ClusterMember } from '../../test/e2e/strata-cluster.js';
import { pidWithArgument } from './cpu-time.js';
import type { Cleanup } from './run-bench.js';

export interface Target {
  /** Where the client sends its requests (in a cluster: the leader or a follower). */
  endpoint: string;
  /** The client URLs of every member. */
  members: string[];
  /** The members' process IDs, the one the client talks to first (for CPU time and profiles). */
  pids: number[];
  /** Stops every member and removes its data; also run by the cleanup if never called. */
  stop(): Promise<void>;
}

/** Which member of a cluster the client talks to; a follower forwards writes to the leader. */
export type Role = 'leader' | 'follower';

const hostPort = (url: string): string => url.replace(/^https?:\/\//, '');

export async function startOneEtcd(cleanup: Cleanup): Promise<Target> {
  const etcd = await startEtcd({ name: 'bench' });
  return { endpoint: etcd.endpoint, members: [etcd.endpoint], pids: etcdPids([etcd.dataDir]), stop: cleanup.add(() => etcd.stop()) };
}

export async function startOneStrata(cleanup: Cleanup): Promise<Target> {
  const dir = tempDir('bench');
  const removeDir = cleanup.add(() => dir.remove());
  const strata = await startStrataServer({ dataDir: join(dir.path, 'strata') });
  const stopServer = cleanup.add(async () => void (await strata.stop()));
  return {
    endpoint: strata.endpoint,
    members: [strata.endpoint],
    pids: strata.running.child.pid === undefined ? [] : [strata.running.child.pid],
    stop: async () => {
      await stopServer();
      await removeDir();
    },
  };
}

/** Three Debian etcd members with the same raft timing as the strata cluster. */
export async function startEtcdTrio(cleanup: Cleanup, role: Role): Promise<Target> {
  const members = await startEtcdCluster({ token: 'bench-etcd', extraArgs: [...CLUSTER_TIMING] });
  const stop = cleanup.add(async () => void (await Promise.all(members.map((m) => m.stop()))));
  const endpoints = members.map((m) => m.endpoint);
  const endpoint = await memberInRole(endpoints, role);
  const ordered = [...members].sort((a, b) => Number(b.endpoint === endpoint) - Number(a.endpoint === endpoint));
  return { endpoint, members: endpoints, pids: etcdPids(ordered.map((m) => m.dataDir)), stop };
}

/**
 * Three `strata server` members, started as test/e2e/strata-cluster.ts starts them; `env`
 * reaches the members only (e.g. NODE_OPTIONS=--cpu-prof).
 */
export async function startStrataTrio(cleanup: Cleanup, role: Role, env: NodeJS.ProcessEnv = {}): Promise<Target> {
  const root = tempDir('bench-cluster');
  const removeRoot = cleanup.add(() => root.remove());
  const ports = await Promise.all(['s1', 's2', 's3'].map((name) => memberPorts(name)));
  const cluster = initialCluster(ports);
  const started: ClusterMember[] = [];
  const stopMembers = cleanup.add(async () => void (await Promise.all(started.map((m) => m.running?.stop('SIGTERM')))));
  // startMember passes no environment of its own: the members inherit ours while they start.
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const settled = await Promise.allSettled(
      ports.map(async (p) => started.push(await startMember(p, { root: root.path, cluster, state: 'new', token: 'bench-strata' }))),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    for (const name of Object.keys(env)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
  const endpoints = started.map((m) => hostPort(m.clientUrl));
  const endpoint = await memberInRole(endpoints, role);
  const ordered = [...started].sort((a, b) => Number(hostPort(b.clientUrl) === endpoint) - Number(hostPort(a.clientUrl) === endpoint));
  return {
    endpoint,
    members: endpoints,
    pids: ordered.flatMap((m) => (m.running?.child.pid === undefined ? [] : [m.running.child.pid])),
    stop: async () => {
      await stopMembers();
      await removeRoot();
    },
  };
}

/** etcd's processes, found by their data dirs (the test harness does not hand out their IDs). */
function etcdPids(dataDirs: readonly string[]): number[] {
  return dataDirs.flatMap((dir) => {
    const pid = pidWithArgument(dir);
    return pid === undefined ? [] : [pid];
  });
}

/** Waits (30 s at most) until every member names the same leader, then picks the member in `role`. */
async function memberInRole(endpoints: readonly string[], role: Role): Promise<string> {
  const clients = endpoints.map((e) => new EtcdClient({ endpoints: [e], requestTimeoutMs: 5_000 }));
  try {
    let ids: string[] = [];
    let leader = '0';
    await eventually(
      async () => {
        const statuses = await Promise.all(clients.map((c) => c.status().catch(() => undefined)));
        ids = statuses.map((s) => s?.header?.member_id ?? '');
        const leaders = new Set(statuses.map((s) => s?.leader ?? '0'));
        leader = [...leaders][0] ?? '0';
        return leaders.size === 1 && leader !== '0' && ids.includes(leader);
      },
      `one leader among ${endpoints.join(', ')}`,
      30_000,
    );
    const at = role === 'leader' ? ids.indexOf(leader) : ids.findIndex((id) => id !== leader);
    return endpoints[at]!;
  } finally {
    for (const c of clients) c.close();
  }
}
