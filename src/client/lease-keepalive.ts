import { Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import { backoffDelay, delay } from './retry.js';
import type { Transport } from './transport.js';
import type { LeaseKeepAliveResponse } from './types.js';

export interface LeaseKeeperEvents {
  /** Each renewal the server confirmed, with the lease's fresh TTL in seconds. */
  onRenewed?: (ttlSeconds: number) => void;
  /** The server says the lease no longer exists (expired or revoked): keeping alive stopped. */
  onExpired?: () => void;
}

type KeepAliveCall = ClientDuplexStream<{ ID: string }, LeaseKeepAliveResponse>;

/**
 * Keeps one lease alive: sends a keep-alive at a third of the TTL the server last granted,
 * re-opens the stream (with failover and backoff) whenever it breaks, and stops when the
 * lease is gone or stop() is called.
 */
export class LeaseKeeper {
  readonly leaseId: string;
  /** The TTL from the last renewal, in seconds (0 until the first one). */
  ttlSeconds = 0;
  private readonly transport: Transport;
  private readonly events: LeaseKeeperEvents;
  private readonly abort = new AbortController();
  private call: KeepAliveCall | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private renewals = 0;
  private readonly done: Promise<void>;

  constructor(transport: Transport, leaseId: string, events: LeaseKeeperEvents) {
    this.transport = transport;
    this.leaseId = leaseId;
    this.events = events;
    this.done = this.run();
  }

  /** Stops renewing (the lease then expires on its own unless revoked). */
  async stop(): Promise<void> {
    this.halt();
    await this.done;
  }

  private halt(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.call?.cancel();
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopped && !this.transport.isClosed; ) {
      const renewedBefore = this.renewals;
      await this.session();
      if (this.stopped) return;
      // A stream that renewed before it broke starts the backoff over.
      attempt = this.renewals > renewedBefore ? 0 : attempt + 1;
      await delay(backoffDelay(this.transport.settings.retry, attempt, this.transport.settings.random), this.abort.signal);
    }
  }

  /** One stream's life, until it breaks or the keeper stops. */
  private async session(): Promise<void> {
    let connection;
    try {
      connection = await this.transport.connect(Date.now() + this.transport.settings.requestTimeoutMs, this.abort.signal);
    } catch {
      return;
    }
    if (this.stopped) return;
    const stub = connection.stubs.Lease as unknown as { LeaseKeepAlive(metadata: Metadata): KeepAliveCall };
    const call = stub.LeaseKeepAlive(new Metadata());
    this.call = call;
    return new Promise<void>((resolve) => {
      const send = (): void => {
        if (!this.stopped) call.write({ ID: this.leaseId });
      };
      call.on('data', (response: LeaseKeepAliveResponse) => {
        const ttl = Number(response.TTL);
        if (ttl <= 0) {
          this.halt();
          this.events.onExpired?.();
          return;
        }
        this.ttlSeconds = ttl;
        this.renewals++;
        this.events.onRenewed?.(ttl);
        this.timer = setTimeout(send, Math.max(500, (ttl * 1000) / 3));
      });
      const finish = (): void => {
        if (this.timer) clearTimeout(this.timer);
        if (this.call === call) this.call = undefined;
        resolve();
      };
      call.on('error', finish);
      call.on('end', finish);
      send();
    });
  }
}
