import { EventEmitter } from 'node:events';
import { Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import type { Event, ResponseHeader, WatchCreateRequest, WatchRequest, WatchResponse } from '../api/etcd-types.js';
import { StrataError } from '../util/errors.js';
import { isServiceError } from './errors.js';
import { toBytes, type Bytes } from './keys.js';
import { backoffDelay, delay } from './retry.js';
import type { Transport } from './transport.js';
import type { Id64 } from './types.js';

export interface WatchInput {
  key: Bytes;
  range_end?: Bytes | undefined;
  /** First revision to deliver; 0 or absent means "changes after now". */
  start_revision?: Id64 | undefined;
  prev_kv?: boolean | undefined;
  progress_notify?: boolean | undefined;
  filters?: Array<'NOPUT' | 'NODELETE'> | undefined;
  fragment?: boolean | undefined;
}

/** Why a watch ended on the server's side. */
export interface WatchCancel {
  /** Set when the requested revision was compacted: history before it is gone. */
  readonly compactRevision: bigint;
  readonly reason: string;
}

interface WatchEventMap {
  created: [header: ResponseHeader | null];
  /** Events of one response (fragments already joined), in revision order. */
  events: [events: Event[], response: WatchResponse];
  /** A progress notification: nothing this watch selects changed up to `revision`. */
  progress: [revision: bigint];
  canceled: [cancel: WatchCancel];
  /** The stream could not be opened at all (the first connect failed). */
  error: [err: Error];
}

/** One watch on a WatchStream. */
export class Watch extends EventEmitter<WatchEventMap> {
  readonly input: WatchInput;
  /** The server's ID while the watch is active on the current stream. */
  watchId: string | undefined;
  /**
   * The revision the watch resumes from after a reconnect: one past the last revision
   * delivered (or confirmed by a progress notification), so nothing is missed or repeated.
   */
  nextRevision: bigint;
  /** Set once the caller asked to cancel. */
  cancelRequested = false;
  /** Events of fragmented responses until the last fragment arrives. */
  fragments: Event[] = [];
  private readonly owner: WatchStream;

  constructor(owner: WatchStream, input: WatchInput) {
    super();
    this.owner = owner;
    this.input = input;
    this.nextRevision = BigInt(input.start_revision ?? 0);
  }

  /** Stops the watch; resolves when the server confirmed (or the stream is gone). */
  cancel(): Promise<void> {
    return this.owner.cancel(this);
  }
}

type WatchCall = ClientDuplexStream<WatchRequest, WatchResponse>;

/**
 * One bidirectional Watch stream carrying many watches, like etcd's own client. When the
 * stream breaks (server restart, failover) it reconnects with backoff and re-creates every
 * watch from its next revision.
 */
export class WatchStream {
  private readonly transport: Transport;
  private call: WatchCall | undefined;
  private connecting = false;
  private everConnected = false;
  private closed = false;
  private reconnects = 0;
  /** Watches whose create request is in flight, in the order sent (etcd answers in order). */
  private creating: Watch[] = [];
  /** Watches waiting for a stream to be created on. */
  private waiting: Watch[] = [];
  private readonly active = new Map<string, Watch>();
  private readonly cancelWaiters = new Map<Watch, () => void>();
  private readonly abort = new AbortController();

  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Starts a watch; listen on the returned Watch for 'events', 'canceled' and 'error'. */
  watch(input: WatchInput): Watch {
    if (this.closed) throw new StrataError('ETCD_WATCH_CLOSED', 'Cannot add a watch: the watch stream is closed');
    const watch = new Watch(this, input);
    this.waiting.push(watch);
    this.flush();
    return watch;
  }

  /** Asks the server for a progress notification on every watch of this stream. */
  requestProgress(): void {
    this.call?.write({ progress_request: {} });
  }

  /** Number of times the stream was re-opened after a failure. */
  get reconnectCount(): number {
    return this.reconnects;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.call?.cancel();
    this.call = undefined;
    for (const resolve of this.cancelWaiters.values()) resolve();
    this.cancelWaiters.clear();
  }

  cancel(watch: Watch): Promise<void> {
    if (watch.cancelRequested) return Promise.resolve();
    watch.cancelRequested = true;
    const queued = this.waiting.indexOf(watch);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.cancelWaiters.set(watch, resolve);
      if (watch.watchId !== undefined && this.call) this.call.write({ cancel_request: { watch_id: watch.watchId } });
      else if (!this.call) this.settleCancel(watch);
    });
  }

  private settleCancel(watch: Watch): void {
    const resolve = this.cancelWaiters.get(watch);
    this.cancelWaiters.delete(watch);
    resolve?.();
  }

  /** Opens the stream if needed and sends the create requests of waiting watches. */
  private flush(): void {
    if (this.closed) return;
    if (!this.call) {
      if (!this.connecting) void this.open();
      return;
    }
    for (const watch of this.waiting.splice(0)) {
      this.creating.push(watch);
      this.call.write({ create_request: createRequest(watch) });
    }
  }

  private async open(): Promise<void> {
    this.connecting = true;
    try {
      for (let attempt = 0; !this.closed && !this.transport.isClosed; attempt++) {
        try {
          const connection = await this.transport.connect(Date.now() + this.transport.settings.requestTimeoutMs, this.abort.signal);
          if (this.closed) return;
          const stub = connection.stubs.Watch as unknown as { Watch(metadata: Metadata): WatchCall };
          const call = stub.Watch(new Metadata());
          this.call = call;
          if (this.everConnected) this.reconnects++;
          this.everConnected = true;
          call.on('data', (response: WatchResponse) => this.onResponse(response));
          call.on('error', (err) => this.onBroken(call, err));
          call.on('end', () => this.onBroken(call, undefined));
          this.flush();
          return;
        } catch (err) {
          if (!this.everConnected) {
            // Nothing was ever delivered: report instead of retrying forever.
            for (const watch of this.waiting.splice(0)) watch.emit('error', err as Error);
            return;
          }
          this.transport.settings.logger.debug('watch stream reconnect failed', { error: (err as Error).message });
          await delay(backoffDelay(this.transport.settings.retry, attempt, this.transport.settings.random), this.abort.signal);
        }
      }
    } finally {
      this.connecting = false;
    }
  }

  /** The stream ended: queue every live watch again from its next revision and reconnect. */
  private onBroken(call: WatchCall, err: unknown): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.closed) return;
    this.transport.settings.logger.debug('watch stream broken, resuming', {
      error: isServiceError(err) ? err.details : String(err ?? 'end of stream'),
    });
    if (isServiceError(err)) this.transport.advance();
    const live = [...this.creating, ...this.active.values()];
    this.creating = [];
    this.active.clear();
    for (const watch of live) {
      watch.watchId = undefined;
      watch.fragments = [];
      if (watch.cancelRequested) this.settleCancel(watch);
      else this.waiting.push(watch);
    }
    this.flush();
  }

  private onResponse(response: WatchResponse): void {
    if (response.created) {
      const watch = this.creating.shift();
      if (!watch) return;
      watch.watchId = response.watch_id;
      this.active.set(response.watch_id, watch);
      if (watch.nextRevision === 0n && response.header) watch.nextRevision = BigInt(response.header.revision) + 1n;
      if (!response.canceled) {
        watch.emit('created', response.header);
        if (watch.cancelRequested) this.call?.write({ cancel_request: { watch_id: response.watch_id } });
        return;
      }
    }
    if (response.watch_id === '-1') {
      // A broadcast answer to requestProgress(): reported, but not used to move resume points,
      // since etcd 3.4 may send it while a watch still has events to catch up.
      if (response.header) for (const watch of this.active.values()) watch.emit('progress', BigInt(response.header.revision));
      return;
    }
    const watch = this.active.get(response.watch_id);
    if (!watch) return;
    if (response.canceled) {
      this.active.delete(response.watch_id);
      watch.watchId = undefined;
      if (watch.cancelRequested) this.settleCancel(watch);
      else watch.emit('canceled', { compactRevision: BigInt(response.compact_revision), reason: response.cancel_reason });
      return;
    }
    if (response.fragment) {
      watch.fragments.push(...response.events);
      return;
    }
    const events = watch.fragments.length > 0 ? [...watch.fragments, ...response.events] : response.events;
    watch.fragments = [];
    if (events.length > 0) {
      const last = events[events.length - 1]!;
      if (last.kv) watch.nextRevision = BigInt(last.kv.mod_revision) + 1n;
      if (!watch.cancelRequested) watch.emit('events', events, { ...response, events });
      return;
    }
    if (response.header) {
      const revision = BigInt(response.header.revision);
      if (revision + 1n > watch.nextRevision) watch.nextRevision = revision + 1n;
      watch.emit('progress', revision);
    }
  }
}

function createRequest(watch: Watch): WatchCreateRequest {
  const input = watch.input;
  return {
    key: toBytes(input.key),
    range_end: input.range_end === undefined ? Buffer.alloc(0) : toBytes(input.range_end),
    start_revision: watch.nextRevision.toString(),
    prev_kv: input.prev_kv ?? false,
    progress_notify: input.progress_notify ?? false,
    filters: input.filters ?? [],
    fragment: input.fragment ?? false,
    watch_id: '0',
  };
}
