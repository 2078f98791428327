import { UsageError } from '../../util/errors.js';
import { parseDuration } from '../../util/duration.js';
import { parseFlagBool } from '../../util/flag-values.js';
import { parseLogLevel, type LogLevel } from '../../util/log.js';
import { envNameOf, serverFlags, type ServerFlag } from './flag-table.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  trustedCaFile: string | undefined;
  clientCertAuth: boolean;
}

export type AutoCompaction =
  | { mode: 'periodic'; retentionMs: number }
  | { mode: 'revision'; retainRevisions: number };

export interface ServerConfig {
  name: string;
  dataDir: string;
  listenClientUrls: URL[];
  advertiseClientUrls: string[];
  listenPeerUrls: URL[];
  initialAdvertisePeerUrls: string[];
  /** name → advertised peer URLs, in the order given. */
  initialCluster: Map<string, string[]>;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  snapshotCount: number;
  /** Entries kept below a raft snapshot so a briefly lagging member catches up from the log (etcd's SnapshotCatchUpEntries). */
  snapshotCatchUpEntries: number;
  /** Refuse member changes that would leave no quorum of started and connected members. */
  strictReconfigCheck: boolean;
  heartbeatMs: number;
  electionMs: number;
  quotaBackendBytes: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  autoCompaction: AutoCompaction | undefined;
  listenMetricsUrls: URL[];
  logLevel: LogLevel;
  clientTls: TlsFiles | undefined;
  peerTls: TlsFiles | undefined;
}

/** etcd's default backend quota when --quota-backend-bytes is 0. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd refuses larger quotas. */
export const MAX_QUOTA_BYTES = 8 * 1024 * 1024 * 1024;

export interface ResolvedConfig {
  config: ServerConfig;
  /** Notes for the log: which ETCD_* variables were used or shadowed, unknown ones. */
  notes: string[];
}

type RawValues = Record<string, string | undefined>;

/**
 * Resolves the server configuration from command-line values (flag name → raw text, only
 * the flags the user gave) and the environment (ETCD_*), applying etcd's defaults and checks.
 * Every problem is a UsageError naming the flag (or variable) and what to do.
 */
export function resolveServerConfig(cli: RawValues, env: RawValues): ResolvedConfig {
  const notes: string[] = [];
  const known = new Set(serverFlags.map((flag) => envNameOf(flag.name)));
  for (const name of Object.keys(env)) {
    if (name.startsWith('ETCD_') && !known.has(name) && !ignoredEtcdEnv.has(name)) {
      notes.push(`unrecognized environment variable ${name} (ignored)`);
    }
  }

  const source = new Map<string, string>();
  const raw = (flag: ServerFlag): string | undefined => {
    const fromCli = cli[flag.name];
    const envName = envNameOf(flag.name);
    const fromEnv = env[envName];
    if (fromCli !== undefined) {
      if (fromEnv !== undefined) notes.push(`flag --${flag.name} shadows environment variable ${envName}`);
      source.set(flag.name, `--${flag.name}`);
      return fromCli;
    }
    if (fromEnv !== undefined) {
      notes.push(`using environment variable ${envName}`);
      source.set(flag.name, envName);
      return fromEnv;
    }
    return undefined;
  };
  const values = new Map<string, string | undefined>(serverFlags.map((flag) => [flag.name, raw(flag)]));
  const given = (name: string): boolean => values.get(name) !== undefined;
  const text = (name: string): string => values.get(name) ?? flagByName(name).defaultValue;
  const where = (name: string): string => source.get(name) ?? `--${name}`;

  const int = (name: string, min: number): number => {
    const value = text(name).trim();
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) {
      throw new UsageError(`Invalid ${where(name)} '${value}': expected a whole number`);
    }
    if (n < min) throw new UsageError(`Invalid ${where(name)} ${n}: must be at least ${min}`);
    return n;
  };
  // The CLI passes a bare --flag as 'true'; an empty value (ETCD_X=) counts as unset.
  const bool = (name: string): boolean => {
    const value = text(name).trim();
    return value !== '' && parseFlagBool(where(name), value);
  };
  const urls = (name: string, forBinding: boolean): URL[] =>
    text(name)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => parseUrl(s, where(name), forBinding));

  const name = text('name');
  if (name === '') throw new UsageError(`Invalid ${where('name')}: the member name must not be empty`);
  const dataDir = given('data-dir') ? text('data-dir') : `${name}.etcd`;

  const heartbeatMs = int('heartbeat-interval', 1);
  const electionMs = int('election-timeout', 1);
  if (electionMs < 5 * heartbeatMs) {
    throw new UsageError(
      `Invalid ${where('election-timeout')} ${electionMs}: it must be at least 5 times --heartbeat-interval (${heartbeatMs} ms)`,
    );
  }
  if (electionMs > 50_000) {
    throw new UsageError(`Invalid ${where('election-timeout')} ${electionMs}: it is too long; use less than 50000 ms`);
  }

  const listenPeerUrls = urls('listen-peer-urls', true);
  const initialAdvertisePeerUrls = urls('initial-advertise-peer-urls', false).map((u) => u.toString().replace(/\/$/, ''));
  // etcd: with --name changed and no --initial-cluster, the cluster is this member alone.
  const initialClusterText = given('initial-cluster')
    ? text('initial-cluster')
    : `${name}=${initialAdvertisePeerUrls.join(`,${name}=`)}`;
  const initialCluster = parseInitialCluster(initialClusterText, where('initial-cluster'));
  const ownPeerUrls = initialCluster.get(name);
  if (ownPeerUrls === undefined) {
    throw new UsageError(
      `Invalid ${where('initial-cluster')}: it has no member named '${name}' (--name); add ${name}=<peer URL> or fix --name`,
    );
  }
  const sortedOwn = [...ownPeerUrls].sort().join(',');
  const sortedAdvertised = [...initialAdvertisePeerUrls].sort().join(',');
  if (sortedOwn !== sortedAdvertised) {
    throw new UsageError(
      `Invalid ${where('initial-cluster')}: it has ${name}=${ownPeerUrls.join(',')} but --initial-advertise-peer-urls is ${initialAdvertisePeerUrls.join(',')}; they must match`,
    );
  }

  const state = text('initial-cluster-state');
  if (state !== 'new' && state !== 'existing') {
    throw new UsageError(`Invalid ${where('initial-cluster-state')} '${state}': expected 'new' or 'existing'`);
  }

  const quota = int('quota-backend-bytes', 0);
  if (quota > MAX_QUOTA_BYTES) {
    throw new UsageError(`Invalid ${where('quota-backend-bytes')} ${quota}: the maximum is ${MAX_QUOTA_BYTES} (8 GiB)`);
  }

  const logLevelText = text('log-level');
  const logLevel = parseLogLevel(logLevelText);
  if (logLevel === undefined) {
    throw new UsageError(`Invalid ${where('log-level')} '${logLevelText}': expected debug, info, warn or error`);
  }

  const tls = (prefix: '' | 'peer-'): TlsFiles | undefined => {
    const certFile = text(`${prefix}cert-file`);
    const keyFile = text(`${prefix}key-file`);
    const trustedCaFile = text(`${prefix}trusted-ca-file`);
    const clientCertAuth = bool(`${prefix}client-cert-auth`);
    if (certFile === '' && keyFile === '') {
      if (clientCertAuth) {
        throw new UsageError(`${where(`${prefix}client-cert-auth`)} needs --${prefix}cert-file and --${prefix}key-file`);
      }
      return undefined;
    }
    if (certFile === '' || keyFile === '') {
      throw new UsageError(`TLS needs both --${prefix}cert-file and --${prefix}key-file; only one was given`);
    }
    if (clientCertAuth && trustedCaFile === '') {
      throw new UsageError(`${where(`${prefix}client-cert-auth`)} needs --${prefix}trusted-ca-file to check client certificates`);
    }
    return { certFile, keyFile, trustedCaFile: trustedCaFile === '' ? undefined : trustedCaFile, clientCertAuth };
  };
  const clientTls = tls('');
  const peerTls = tls('peer-');

  const listenClientUrls = urls('listen-client-urls', true);
  for (const url of listenClientUrls) {
    if (url.protocol === 'https:' && clientTls === undefined) {
      throw new UsageError(`Client URL ${url.href} uses https: give --cert-file and --key-file (or use http://)`);
    }
  }
  for (const url of listenPeerUrls) {
    if (url.protocol === 'https:' && peerTls === undefined) {
      throw new UsageError(`Peer URL ${url.href} uses https: give --peer-cert-file and --peer-key-file (or use http://)`);
    }
  }

  const config: ServerConfig = {
    name,
    dataDir,
    listenClientUrls,
    advertiseClientUrls: urls('advertise-client-urls', false).map((u) => u.toString().replace(/\/$/, '')),
    listenPeerUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state,
    initialClusterToken: text('initial-cluster-token'),
    snapshotCount: int('snapshot-count', 1),
    snapshotCatchUpEntries: int('experimental-snapshot-catchup-entries', 1),
    strictReconfigCheck: bool('strict-reconfig-check'),
    heartbeatMs,
    electionMs,
    quotaBackendBytes: quota === 0 ? DEFAULT_QUOTA_BYTES : quota,
    maxRequestBytes: int('max-request-bytes', 1),
    maxTxnOps: int('max-txn-ops', 1),
    autoCompaction: parseAutoCompaction(text('auto-compaction-mode'), text('auto-compaction-retention'), where),
    listenMetricsUrls: urls('listen-metrics-urls', true),
    logLevel,
    clientTls,
    peerTls,
  };
  return { config, notes };
}

/** ETCD_* variables that are etcd's own business, not flags (e.g. ETCD_UNSUPPORTED_ARCH). */
const ignoredEtcdEnv = new Set(['ETCD_UNSUPPORTED_ARCH', 'ETCDCTL_API']);

function flagByName(name: string): ServerFlag {
  const flag = serverFlags.find((candidate) => candidate.name === name);
  if (!flag) throw new Error(`unknown server flag ${name}`);
  return flag;
}

function parseUrl(text: string, where: string, forBinding: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`Invalid URL '${text}' in ${where}: expected scheme://host:port, e.g. http://127.0.0.1:2379`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Invalid URL '${text}' in ${where}: the scheme must be http or https`);
  }
  if (url.port === '') {
    throw new UsageError(`Invalid URL '${text}' in ${where}: a port is required, e.g. ${url.protocol}//${url.hostname}:2379`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new UsageError(`Invalid URL '${text}' in ${where}: a URL to listen on or advertise has no path`);
  }
  if (forBinding) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
    if (!isIp && host !== 'localhost') {
      throw new UsageError(`Invalid URL '${text}' in ${where}: expected an IP address (or localhost) to listen on`);
    }
  }
  return url;
}

/** Parses "name1=url1,name1=url1b,name2=url2" (etcd's --initial-cluster). */
export function parseInitialCluster(text: string, where: string): Map<string, string[]> {
  const members = new Map<string, string[]>();
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`Invalid ${where} entry '${part}': expected name=peerURL`);
    }
    const memberName = part.slice(0, eq);
    const url = parseUrl(part.slice(eq + 1), where, false).toString().replace(/\/$/, '');
    const urls = members.get(memberName) ?? [];
    if (urls.includes(url)) throw new UsageError(`Invalid ${where}: peer URL ${url} is listed twice for '${memberName}'`);
    urls.push(url);
    members.set(memberName, urls);
  }
  if (members.size === 0) throw new UsageError(`Invalid ${where}: it lists no member`);
  return members;
}

function parseAutoCompaction(mode: string, retention: string, where: (name: string) => string): AutoCompaction | undefined {
  if (mode !== 'periodic' && mode !== 'revision') {
    throw new UsageError(`Invalid ${where('auto-compaction-mode')} '${mode}': expected 'periodic' or 'revision'`);
  }
  const value = retention.trim();
  if (value === '' || value === '0') return undefined;
  if (mode === 'revision') {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
      throw new UsageError(`Invalid ${where('auto-compaction-retention')} '${value}': revision mode needs a whole number of revisions`);
    }
    return { mode, retainRevisions: n };
  }
  // etcd: a bare number in periodic mode is a number of hours.
  const ms = /^\d+$/.test(value) ? Number(value) * 3_600_000 : parseDuration(value);
  if (ms === undefined || ms <= 0) {
    throw new UsageError(`Invalid ${where('auto-compaction-retention')} '${value}': expected hours (e.g. 1) or a duration (e.g. 30m)`);
  }
  return { mode, retentionMs: ms };
}
