import { Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { EtcdErrors } from '../api/etcd-errors.js';
import type { Logger } from '../util/log.js';
import { Connection, type ChannelSettings, type ServiceName } from './connection.js';
import type { Endpoint } from './endpoints.js';
import { EtcdRequestError, EtcdTimeoutError, EtcdUnavailableError, connectReason, isServiceError, wasNotSent } from './errors.js';
import { backoffDelay, delay, type RetryPolicy } from './retry.js';

export interface TransportSettings extends ChannelSettings {
  readonly endpoints: readonly Endpoint[];
  readonly dialTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly retry: RetryPolicy;
  readonly random: () => number;
  readonly logger: Logger;
  readonly connectHint: string;
}

export interface CallOptions {
  /** Whole-call time limit in ms, retries included (default: the client's request timeout). */
  readonly timeoutMs?: number | undefined;
  /** Safe to send again after a failure that may have reached the server (reads, and writes etcd dedups). */
  readonly idempotent: boolean;
}

type UnaryMethod = (request: unknown, metadata: unknown, options: { deadline: number }, callback: (err: ServiceError | null, res: unknown) => void) => unknown;

/**
 * The connections to every endpoint and the retry loop: calls go to the current endpoint
 * and move on to the next when it cannot be reached. A request that may have reached the
 * server is sent again only when it is idempotent or etcd says it was refused before it
 * was proposed ("no leader"), as etcd's own client does.
 */
export class Transport {
  readonly settings: TransportSettings;
  private readonly connections: Connection[];
  private current = 0;
  private closed = false;

  constructor(settings: TransportSettings) {
    this.settings = settings;
    this.connections = settings.endpoints.map((endpoint) => new Connection(endpoint, settings));
  }

  /** Once closed, streams made on this transport stop reconnecting. */
  get isClosed(): boolean {
    return this.closed;
  }

  get endpoints(): readonly Endpoint[] {
    return this.settings.endpoints;
  }

  /**
   * A connected endpoint, trying each in turn with backoff between rounds; throws
   * EtcdUnavailableError naming every endpoint when none answers before the deadline.
   */
  async connect(deadline: number, signal?: AbortSignal): Promise<Connection> {
    let lastReason = 'no answer';
    for (let round = 0; round < this.settings.retry.maxRounds; round++) {
      for (let i = 0; i < this.connections.length; i++) {
        if (this.closed) throw this.unavailable('the client is closed');
        const connection = this.connections[this.current]!;
        const dialDeadline = Math.min(deadline, Date.now() + this.settings.dialTimeoutMs);
        const result = await connection.ready(dialDeadline);
        if (result.ok) return connection;
        lastReason = result.timedOut
          ? `no answer within the dial timeout (${this.settings.dialTimeoutMs} ms)`
          : await this.probeReason(connection, dialDeadline);
        this.settings.logger.debug('etcd endpoint unreachable', { endpoint: connection.endpoint.text, reason: lastReason });
        this.advance();
        if (Date.now() >= deadline || signal?.aborted) throw this.unavailable(lastReason);
      }
      if (round + 1 < this.settings.retry.maxRounds) {
        const wait = Math.min(backoffDelay(this.settings.retry, round, this.settings.random), Math.max(0, deadline - Date.now()));
        await delay(wait, signal);
      }
    }
    throw this.unavailable(lastReason);
  }

  /** One unary call with failover and retries. */
  async unary<Res>(service: ServiceName, method: string, request: unknown, options: CallOptions): Promise<Res> {
    const timeoutMs = options.timeoutMs ?? this.settings.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    let attempts = 0;
    const maxAttempts = this.settings.retry.maxRounds * this.connections.length;
    for (;;) {
      const connection = await this.connect(deadline);
      attempts++;
      try {
        return await callUnary<Res>(connection.stubs[service], method, request, deadline);
      } catch (err) {
        if (!isServiceError(err)) throw err;
        const retry =
          (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) &&
          (options.idempotent || wasNotSent(err) || err.details === EtcdErrors.noLeader.message) &&
          attempts < maxAttempts &&
          Date.now() < deadline;
        if (retry) {
          this.settings.logger.debug('etcd request failed, retrying', { endpoint: connection.endpoint.text, method, error: err.details });
          if (err.code === status.UNAVAILABLE) this.advance();
          await delay(Math.min(backoffDelay(this.settings.retry, attempts - 1, this.settings.random), Math.max(0, deadline - Date.now())));
          continue;
        }
        throw this.toError(err, connection, timeoutMs);
      }
    }
  }

  /** Maps a gRPC failure of a call made on `connection` to the client's typed errors. */
  toError(err: ServiceError, connection: Connection, timeoutMs: number): Error {
    if (wasNotSent(err)) return this.unavailable(connectReason(err.details));
    if (err.code === status.DEADLINE_EXCEEDED) return new EtcdTimeoutError(connection.endpoint.text, timeoutMs, err);
    if (err.code === status.UNAVAILABLE && !err.details.startsWith('etcdserver:')) {
      return this.unavailable(connectReason(err.details));
    }
    return new EtcdRequestError(err.code, err.details, connection.endpoint.text, err);
  }

  /** Moves to the next endpoint (after a failure on the current one). */
  advance(): void {
    this.current = (this.current + 1) % this.connections.length;
  }

  close(): void {
    this.closed = true;
    for (const connection of this.connections) connection.close();
  }

  private unavailable(reason: string): EtcdUnavailableError {
    return new EtcdUnavailableError(
      this.settings.endpoints.map((e) => e.text),
      reason,
      this.settings.connectHint,
    );
  }

  /** A fail-fast call on a channel that failed to connect names the transport's last error. */
  private async probeReason(connection: Connection, deadline: number): Promise<string> {
    try {
      await callUnary(connection.stubs.Maintenance, 'Status', {}, Math.max(deadline, Date.now() + 100));
      return 'the connection failed and then recovered';
    } catch (err) {
      if (isServiceError(err)) {
        return err.code === status.DEADLINE_EXCEEDED ? `no answer within the dial timeout (${this.settings.dialTimeoutMs} ms)` : connectReason(err.details);
      }
      return String(err);
    }
  }
}

export function callUnary<Res>(stub: Client, method: string, request: unknown, deadline: number): Promise<Res> {
  const fn = (stub as unknown as Record<string, UnaryMethod>)[method];
  if (typeof fn !== 'function') throw new Error(`etcd API has no method ${method}`);
  return new Promise<Res>((resolve, reject) => {
    fn.call(stub, request, new Metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}
