import { UsageError } from '../util/errors.js';

/** One etcd client endpoint as etcdctl accepts it: `host:port`, `http://host:port` or `https://host:port`. */
export interface Endpoint {
  /** What the user wrote, for messages and for etcdctl-shaped output. */
  readonly text: string;
  /** `host:port` as grpc-js dials it (IPv6 hosts in brackets). */
  readonly address: string;
  readonly host: string;
  /** true for https://, false for http://, undefined when no scheme was given (the TLS flags decide). */
  readonly secure: boolean | undefined;
}

export function parseEndpoint(text: string): Endpoint {
  const trimmed = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new UsageError(`Invalid endpoint '${text}': scheme '${scheme}' is not supported; use host:port, http:// or https://`);
  }
  const rest = scheme === undefined ? trimmed : trimmed.slice(scheme.length + 3).replace(/\/+$/, '');
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(rest);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new UsageError(`Invalid endpoint '${text}': expected host:port (for example 127.0.0.1:2379)`);
  }
  const host = match[1]!;
  return {
    text: trimmed,
    address: `${host}:${port}`,
    host: host.startsWith('[') ? host.slice(1, -1) : host,
    secure: scheme === undefined ? undefined : scheme === 'https',
  };
}

/** Parses a list of endpoints (also accepts one comma-separated string per entry). */
export function parseEndpoints(list: readonly string[]): Endpoint[] {
  const endpoints = list
    .flatMap((item) => item.split(','))
    .filter((item) => item.trim() !== '')
    .map(parseEndpoint);
  if (endpoints.length === 0) throw new UsageError('No etcd endpoint given; pass --endpoints host:port[,host:port...]');
  return endpoints;
}
