import { join } from 'node:path';
import type { TestCerts } from './certs.js';
import { freePort } from './net.js';
import { RunningProcess } from './process.js';
import { startRestartable } from './restartable.js';
import { tempDir } from './tmp.js';

export interface EtcdOptions {
  /** Serve clients over TLS with these certificates, requiring client certificates (mutual TLS). */
  tls?: TestCerts;
  name?: string;
  /** Data directory; a fresh temporary one (removed by stop()) when absent. */
  dataDir?: string;
  extraArgs?: string[];
}

export interface EtcdProcess {
  /** `127.0.0.1:port`, as etcdctl's --endpoints takes it. */
  endpoint: string;
  /** `http(s)://127.0.0.1:port`. */
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  /** The etcd log so far (zap JSON lines). */
  log(): string;
  /** Stops the server (SIGTERM, then waits); it can be started again with restart(). */
  halt(): Promise<void>;
  /** Starts it again on the same ports and data dir, after halt(). */
  restart(): Promise<void>;
  /** Stops the server for good and removes its temporary data dir. */
  stop(): Promise<void>;
}

// etcd 3.4 logs this once the member has joined (its cluster has a leader) and serves clients.
const readyLine = '"msg":"serving client traffic';

interface MemberPlan {
  name: string;
  clientUrl: string;
  peerUrl: string;
}

async function planMember(name: string, tls: boolean): Promise<MemberPlan> {
  return { name, clientUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}` };
}

/**
 * Starts one etcd member of `initialCluster` and waits until it serves client traffic, within
 * 30 s; the members of a new multi-member cluster must be started together to get there.
 */
async function startMember(member: MemberPlan, initialCluster: string[], options: EtcdOptions): Promise<EtcdProcess> {
  const owned = options.dataDir === undefined ? tempDir('etcd') : undefined;
  const dataDir = options.dataDir ?? join(owned!.path, 'data');
  const tlsArgs = options.tls
    ? ['--cert-file', options.tls.serverCert, '--key-file', options.tls.serverKey, '--trusted-ca-file', options.tls.ca, '--client-cert-auth']
    : [];
  const args = [
    '--name', member.name,
    '--data-dir', dataDir,
    '--listen-client-urls', member.clientUrl,
    '--advertise-client-urls', member.clientUrl,
    '--listen-peer-urls', member.peerUrl,
    '--initial-advertise-peer-urls', member.peerUrl,
    '--initial-cluster', initialCluster.join(','),
    '--logger', 'zap',
    '--log-outputs', 'stderr',
    ...tlsArgs,
    ...(options.extraArgs ?? []),
  ];
  let server;
  try {
    server = await startRestartable(
      () => new RunningProcess('etcd', args, { timeoutMs: 3_600_000 }),
      (stderr) => stderr.includes(readyLine),
      `etcd ${member.name} serving client traffic`,
    );
  } catch (err) {
    owned?.remove();
    throw err;
  }
  return {
    endpoint: member.clientUrl.replace(/^https?:\/\//, ''),
    clientUrl: member.clientUrl,
    peerUrl: member.peerUrl,
    dataDir,
    ...server,
    async stop() {
      await server.halt();
      owned?.remove();
    },
  };
}

/**
 * Starts Debian's etcd on 127.0.0.1 with free client and peer ports and waits until it
 * logs that it serves client traffic, within 30 s.
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdProcess> {
  const member = await planMember(options.name ?? 'etcd-test', options.tls !== undefined);
  return startMember(member, [`${member.name}=${member.peerUrl}`], options);
}

export interface EtcdClusterOptions {
  /** One name per member (default etcd1, etcd2, etcd3). */
  names?: readonly string[];
  token?: string;
  /** Flags for every member, e.g. --heartbeat-interval. */
  extraArgs?: string[];
}

/**
 * Starts a new etcd cluster on loopback (each member in its own temporary data dir, as the
 * reference notes set one up with --initial-cluster) and waits until every member serves.
 * If one member fails to start, the others are stopped before the error is thrown.
 */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdProcess[]> {
  const names = options.names ?? ['etcd1', 'etcd2', 'etcd3'];
  const plans = await Promise.all(names.map((name) => planMember(name, false)));
  const initialCluster = plans.map((p) => `${p.name}=${p.peerUrl}`);
  const clusterArgs = ['--initial-cluster-state', 'new', '--initial-cluster-token', options.token ?? 'etcd-test-cluster', ...(options.extraArgs ?? [])];
  const started = await Promise.allSettled(plans.map((p) => startMember(p, initialCluster, { extraArgs: clusterArgs })));
  const members = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(members.map((m) => m.stop()));
    throw failed.reason;
  }
  return members;
}
