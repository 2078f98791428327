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

// etcd 3.4 logs this once the member has joined (a single member elected itself) and serves clients.
const readyLine = '"msg":"serving client traffic';

/**
 * Starts Debian's etcd on 127.0.0.1 with free client and peer ports and waits until it
 * logs that it serves client traffic, within 30 s.
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdProcess> {
  const name = options.name ?? 'etcd-test';
  const owned = options.dataDir === undefined ? tempDir('etcd') : undefined;
  const dataDir = options.dataDir ?? join(owned!.path, 'data');
  const clientUrl = `${options.tls ? 'https' : 'http'}://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const tlsArgs = options.tls
    ? ['--cert-file', options.tls.serverCert, '--key-file', options.tls.serverKey, '--trusted-ca-file', options.tls.ca, '--client-cert-auth']
    : [];
  const args = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    '--logger', 'zap',
    '--log-outputs', 'stderr',
    ...tlsArgs,
    ...(options.extraArgs ?? []),
  ];
  const server = await startRestartable(
    () => new RunningProcess('etcd', args, { timeoutMs: 3_600_000 }),
    (stderr) => stderr.includes(readyLine),
    'etcd serving client traffic',
  );
  return {
    endpoint: clientUrl.replace(/^https?:\/\//, ''),
    clientUrl,
    peerUrl,
    dataDir,
    ...server,
    async stop() {
      await server.halt();
      owned?.remove();
    },
  };
}
