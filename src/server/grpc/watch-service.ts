import type * as grpc from '@grpc/grpc-js';
import type { Event, WatchCreateRequest, WatchRequest, WatchResponse } from '../../api/etcd-types.js';
import type { Logger } from '../../util/log.js';
import type { EtcdServerApi, WatchHandle } from './server-api.js';

export interface WatchServiceOptions {
  /** How often watchers that asked for progress notifications get one (etcd: 10 minutes). */
  progressIntervalMs: number;
}

type Call = grpc.ServerDuplexStream<WatchRequest, Partial<WatchResponse>>;

export function watchService(server: EtcdServerApi, logger: Logger, options: WatchServiceOptions): grpc.UntypedServiceImplementation {
  return {
    Watch: (call: Call) => {
      new WatchStream(server, call, logger, options).start();
    },
  };
}

interface ActiveWatch {
  handle: WatchHandle;
  progressNotify: boolean;
  /** Paused because the client reads slower than events arrive; resumed on 'drain'. */
  paused: boolean;
}

/** One client stream carrying many watches, as etcd's v3rpc watch server does. */
class WatchStream {
  private readonly watches = new Map<string, ActiveWatch>();
  private nextId = 0n;
  private progressTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly server: EtcdServerApi,
    private readonly call: Call,
    private readonly logger: Logger,
    private readonly options: WatchServiceOptions,
  ) {}

  start(): void {
    this.call.on('data', (req: WatchRequest) => this.onRequest(req));
    this.call.on('end', () => this.close(true));
    this.call.on('error', () => this.close(false));
    this.call.on('close', () => this.close(false));
    this.call.on('drain', () => this.resumePaused());
    this.progressTimer = setInterval(() => this.sendProgressNotifications(), this.options.progressIntervalMs);
    this.progressTimer.unref();
  }

  private close(endCall: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.progressTimer);
    for (const watch of this.watches.values()) watch.handle.cancel();
    this.watches.clear();
    if (endCall) this.call.end();
  }

  /** Writes a response; false when the stream's buffer is full (the client is slow). */
  private send(response: Partial<WatchResponse>): boolean {
    if (this.closed) return true;
    return this.call.write(response);
  }

  private resumePaused(): void {
    for (const watch of this.watches.values()) {
      if (!watch.paused) continue;
      watch.paused = false;
      watch.handle.resume();
    }
  }

  private onRequest(req: WatchRequest): void {
    try {
      if (req.create_request) this.create(req.create_request);
      else if (req.cancel_request) this.cancel(req.cancel_request.watch_id);
      else if (req.progress_request) {
        // Not tied to one watch: etcd answers with watch ID -1 and the current revision.
        this.send({ header: this.server.header(), watch_id: '-1' });
      }
    } catch (err) {
      this.logger.error('watch request failed', { error: err });
    }
  }

  private create(req: WatchCreateRequest): void {
    let id = BigInt(req.watch_id);
    if (id !== 0n && this.watches.has(id.toString())) {
      this.send({
        header: this.server.header(),
        watch_id: id.toString(),
        created: true,
        canceled: true,
        cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream',
      });
      return;
    }
    if (id === 0n) {
      while (this.watches.has(this.nextId.toString())) this.nextId++;
      id = this.nextId++;
    }
    const watchId = id.toString();
    this.send({ header: this.server.header(), watch_id: watchId, created: true });
    const fragment = req.fragment;
    let compacted = false;
    const handle = this.server.watch(
      {
        key: req.key,
        rangeEnd: req.range_end,
        startRevision: Number(req.start_revision),
        prevKv: req.prev_kv,
        noPut: req.filters.includes('NOPUT'),
        noDelete: req.filters.includes('NODELETE'),
      },
      {
        events: (events, revision) => {
          if (this.sendEvents(watchId, events, revision, fragment)) return true;
          // Backpressure: the hub stops delivering to this watcher and catches it up from
          // history once the client has drained the stream, so memory stays bounded.
          const watch = this.watches.get(watchId);
          if (watch) watch.paused = true;
          return false;
        },
        compacted: (compactRevision) => {
          this.send({
            header: this.server.header(),
            watch_id: watchId,
            canceled: true,
            compact_revision: String(compactRevision),
          });
          compacted = true;
          this.watches.delete(watchId);
        },
      },
    );
    // The compacted notice may come before watch() returns: then the watch is already over.
    if (compacted || this.closed) return;
    this.watches.set(watchId, { handle, progressNotify: req.progress_notify, paused: false });
  }

  private cancel(watchIdText: string): void {
    const watchId = BigInt(watchIdText).toString();
    const watch = this.watches.get(watchId);
    if (!watch) return;
    watch.handle.cancel();
    this.watches.delete(watchId);
    this.send({ header: this.server.header(), watch_id: watchId, canceled: true });
  }

  private sendEvents(watchId: string, events: Event[], revision: number, fragment: boolean): boolean {
    const header = this.server.header(revision);
    const limit = this.server.maxRequestBytes;
    if (!fragment || eventsSize(events) <= limit) return this.send({ header, watch_id: watchId, events });
    // Split into responses under the request size limit; all but the last carry fragment=true.
    let batch: Event[] = [];
    let size = 0;
    for (const event of events) {
      const bytes = eventSize(event);
      if (batch.length > 0 && size + bytes > limit) {
        this.send({ header, watch_id: watchId, events: batch, fragment: true });
        batch = [];
        size = 0;
      }
      batch.push(event);
      size += bytes;
    }
    return this.send({ header, watch_id: watchId, events: batch });
  }

  private sendProgressNotifications(): void {
    for (const [watchId, watch] of this.watches) {
      if (watch.progressNotify && watch.handle.synced) this.send({ header: this.server.header(), watch_id: watchId });
    }
  }
}

function eventSize(event: Event): number {
  const kvSize = (kv: Event['kv']): number => (kv ? kv.key.length + kv.value.length + 48 : 0);
  return kvSize(event.kv) + kvSize(event.prev_kv) + 8;
}

function eventsSize(events: Event[]): number {
  let total = 0;
  for (const event of events) total += eventSize(event);
  return total;
}
