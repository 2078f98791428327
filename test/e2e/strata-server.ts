// Starts `bin/strata server` as a child process, as a user would, on free loopback ports.
import { join } from 'node:path';
import { freePort, missingBinary, startEtcd, startRestartable, startStrata, tempDir, type EtcdProcess, type RunningProcess } from '../support/index.js';

/** The log line that says the server is ready for clients. */
const servingLine = '"serving client traffic"';

export interface StrataServerProcess {
  endpoint: string; // host:port
  clientUrl: string;
  dataDir: string;
  args: string[];
  running: RunningProcess;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  name?: string;
  clientPort?: number;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** https client URL (give the TLS flags in extraArgs). */
  tls?: boolean;
}

/** The flags of a one-member cluster on loopback, as the reference notes start etcd. */
export async function serverArgs(options: StartOptions): Promise<{ args: string[]; clientUrl: string; clientPort: number }> {
  const name = options.name ?? 's1';
  const clientPort = options.clientPort ?? (await freePort());
  const peerPort = await freePort();
  const clientUrl = `${options.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    'server',
    '--name', name,
    '--data-dir', options.dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    ...(options.extraArgs ?? []),
  ];
  return { args, clientUrl, clientPort };
}

export async function startStrataServer(options: StartOptions): Promise<StrataServerProcess> {
  const { args, clientUrl, clientPort } = await serverArgs(options);
  // A server runs until the test stops it; the harness' kill timer is only a backstop.
  const running = startStrata(args, { ...(options.env ? { env: options.env } : {}), timeoutMs: 20 * 60_000 });
  await running.waitFor((_out, err) => err.includes(servingLine), 30_000, 'the server to serve');
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    clientUrl,
    dataDir: options.dataDir,
    args,
    running,
    stop: async () => (await running.stop('SIGTERM')).code,
    kill9: async () => {
      await running.stop('SIGKILL');
    },
  };
}

/**
 * `strata server` behind the same interface as test/support's startEtcd, so a suite written
 * against etcd runs unchanged against strata (restart keeps the ports and the data dir).
 */
export async function startStrataLikeEtcd(options: { name?: string } = {}): Promise<EtcdProcess> {
  const owned = tempDir('strata-server');
  const dataDir = join(owned.path, 'data');
  const { args, clientUrl, clientPort } = await serverArgs({ dataDir, ...(options.name ? { name: options.name } : {}) });
  const server = await startRestartable(
    () => startStrata(args, { timeoutMs: 3_600_000 }),
    (stderr) => stderr.includes(servingLine),
    'the server to serve',
  );
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    clientUrl,
    peerUrl: args[args.indexOf('--initial-advertise-peer-urls') + 1]!,
    dataDir,
    ...server,
    async stop() {
      await server.halt();
      owned.remove();
    },
  };
}

/** For suites that must behave the same on both servers: Debian's etcd and strata server. */
export const etcdAndStrata = [
  { name: 'Debian etcd', start: startEtcd, skip: missingBinary('etcd') },
  { name: 'strata server', start: startStrataLikeEtcd, skip: false as const },
];
