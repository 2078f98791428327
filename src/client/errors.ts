import { status, type ServiceError } from '@grpc/grpc-js';
import { etcdErrorNameOf, type EtcdErrorName } from '../api/etcd-errors.js';
import { StrataError } from '../util/errors.js';

/** The server answered with an error: etcd's own message (etcdctl prints the same line). */
export class EtcdRequestError extends StrataError {
  override readonly name = 'EtcdRequestError';
  readonly grpcCode: status;
  /** etcd's name for the error (etcd-errors.ts) when the message is one of etcd's. */
  readonly etcdName: EtcdErrorName | undefined;
  readonly endpoint: string;

  constructor(grpcCode: status, details: string, endpoint: string, cause?: unknown) {
    const etcdName = etcdErrorNameOf(details);
    super(etcdName ? `ETCD_${etcdName.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}` : `GRPC_${status[grpcCode]}`, details, {
      cause,
    });
    this.grpcCode = grpcCode;
    this.etcdName = etcdName;
    this.endpoint = endpoint;
  }
}

/** No endpoint could be reached (or the request timed out): one line naming the endpoints and the fix. */
export class EtcdUnavailableError extends StrataError {
  override readonly name = 'EtcdUnavailableError';
  readonly endpoints: readonly string[];
  readonly reason: string;

  constructor(endpoints: readonly string[], reason: string, hint: string, cause?: unknown) {
    super('ETCD_UNAVAILABLE', `Cannot connect to etcd at ${endpoints.join(', ')}: ${reason}; ${hint}`, { cause });
    this.endpoints = endpoints;
    this.reason = reason;
  }
}

/** The request ran out of time after the connection was made. */
export class EtcdTimeoutError extends StrataError {
  override readonly name = 'EtcdTimeoutError';
  constructor(endpoint: string, timeoutMs: number, cause?: unknown) {
    super(
      'ETCD_TIMEOUT',
      `Request to etcd at ${endpoint} timed out after ${timeoutMs} ms; raise --command-timeout or check the server's health`,
      { cause },
    );
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

/** grpc-js's wording when the request never left this process (no transport to send it on). */
export function wasNotSent(err: ServiceError): boolean {
  return err.details.startsWith('No connection established') || err.details.includes('Waiting for LB pick');
}

/** Turns the transport's last error into a short human reason. */
export function connectReason(details: string): string {
  const known: Array<[RegExp, string]> = [
    [/ECONNREFUSED/, 'connection refused'],
    [/ENOTFOUND|EAI_AGAIN/, 'host not found'],
    [/EHOSTUNREACH|ENETUNREACH/, 'host unreachable'],
    [/ECONNRESET/, 'connection reset by the server'],
    [
      /self[- ]signed certificate|unable to (verify|get) (the first|local issuer)|certificate signature failure/,
      'the server certificate is not signed by a trusted CA (check --cacert)',
    ],
    [/altnames|does not match certificate|Hostname\/IP/, "the server certificate does not name this host (check the endpoint's host name)"],
    [/certificate has expired/, 'the server certificate has expired'],
    [/certificate required|bad certificate|unknown ca|alert/i, 'the server rejected the TLS handshake (check --cert and --key)'],
    [/before secure TLS connection was established|wrong version number|packet length too long/, 'TLS handshake failed (is the server using TLS? check http:// vs https:// and the TLS flags)'],
    [/Protocol error|HTTP status code|Received RST_STREAM|Failed to connect \(/, 'the server did not speak gRPC over this transport (check http:// vs https:// and the TLS flags)'],
  ];
  for (const [pattern, reason] of known) if (pattern.test(details)) return reason;
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/.exec(details)?.[1];
  return last ?? details;
}
