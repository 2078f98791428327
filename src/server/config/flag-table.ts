/**
 * The etcd flags the bundled server honours, with etcd 3.4's names, defaults and meaning.
 * Each flag can also come from its ETCD_* environment variable (upper case, '-' → '_'),
 * so an /etc/etcd.env written for etcd starts `strata server` unchanged; a flag on the
 * command line wins over the environment, as in etcd.
 */
export type FlagKind = 'string' | 'urls' | 'int' | 'bool' | 'duration';

export interface ServerFlag {
  readonly name: string;
  readonly kind: FlagKind;
  readonly defaultValue: string;
  readonly description: string;
}

const f = (name: string, kind: FlagKind, defaultValue: string, description: string): ServerFlag => ({
  name,
  kind,
  defaultValue,
  description,
});

export const serverFlags: readonly ServerFlag[] = [
  f('name', 'string', 'default', 'human-readable name for this member'),
  f('data-dir', 'string', '${name}.etcd', 'path to the data directory'),
  f('listen-client-urls', 'urls', 'http://localhost:2379', 'list of URLs to listen on for client traffic'),
  f('advertise-client-urls', 'urls', 'http://localhost:2379', 'list of this member\'s client URLs to advertise'),
  f('listen-peer-urls', 'urls', 'http://localhost:2380', 'list of URLs to listen on for peer traffic'),
  f('initial-advertise-peer-urls', 'urls', 'http://localhost:2380', 'list of this member\'s peer URLs to advertise'),
  f('initial-cluster', 'string', 'default=http://localhost:2380', 'initial cluster configuration for bootstrapping (name=peerURL,...)'),
  f('initial-cluster-state', 'string', 'new', "initial cluster state ('new' or 'existing')"),
  f('initial-cluster-token', 'string', 'etcd-cluster', 'initial cluster token, unique per cluster'),
  f('snapshot-count', 'int', '100000', 'number of committed transactions to trigger a snapshot to disk'),
  f('experimental-snapshot-catchup-entries', 'int', '5000', 'number of entries for a slow follower to catch-up after compacting the raft storage entries'),
  f('strict-reconfig-check', 'bool', 'true', 'reject reconfiguration requests that would cause quorum loss'),
  f('heartbeat-interval', 'int', '100', 'time (in milliseconds) of a heartbeat interval'),
  f('election-timeout', 'int', '1000', 'time (in milliseconds) for an election to timeout'),
  f('quota-backend-bytes', 'int', '0', 'raise alarms when the backend size exceeds the given quota (0 defaults to 2 GiB)'),
  f('max-request-bytes', 'int', '1572864', 'maximum client request size in bytes the server will accept'),
  f('max-txn-ops', 'int', '128', 'maximum number of operations permitted in a transaction'),
  f('auto-compaction-mode', 'string', 'periodic', "interpret 'auto-compaction-retention' as 'periodic' (duration) or 'revision'"),
  f('auto-compaction-retention', 'string', '0', 'auto compaction retention (0 disables): hours or a duration for periodic, a count for revision'),
  f('listen-metrics-urls', 'urls', '', 'list of URLs to serve /metrics and /health on'),
  f('log-level', 'string', 'info', "log level: 'debug', 'info', 'warn' or 'error'"),
  f('cert-file', 'string', '', 'path to the client server TLS cert file'),
  f('key-file', 'string', '', 'path to the client server TLS key file'),
  f('trusted-ca-file', 'string', '', 'path to the client server TLS trusted CA cert file'),
  f('client-cert-auth', 'bool', 'false', 'enable client cert authentication'),
  f('peer-cert-file', 'string', '', 'path to the peer server TLS cert file'),
  f('peer-key-file', 'string', '', 'path to the peer server TLS key file'),
  f('peer-trusted-ca-file', 'string', '', 'path to the peer server TLS trusted CA file'),
  f('peer-client-cert-auth', 'bool', 'false', 'enable peer client cert authentication'),
];

export function envNameOf(flag: string): string {
  return `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`;
}
