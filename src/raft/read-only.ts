/**
 * Pending ReadIndex requests on the leader (safe mode): each waits, with the commit index
 * it was given, until a quorum answers a heartbeat carrying its context. Because
 * heartbeats are answered in order, a quorum for a later request confirms every earlier one.
 */
import type { Message } from './types.js';

export type ReadOnlyOption = 'safe' | 'leaseBased';

export interface ReadIndexStatus {
  readonly req: Message;
  readonly index: number;
  readonly acks: Map<bigint, boolean>;
}

/** Contexts are arbitrary bytes; as map keys they become latin1 strings. */
function key(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += String.fromCharCode(b);
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** A request (its context in entries[0].data) to be answered with `index` once confirmed. */
  addRequest(index: number, m: Message): void {
    const k = key(m.entries[0]!.data);
    if (this.pending.has(k)) return;
    this.pending.set(k, { req: m, index, acks: new Map() });
    this.queue.push(k);
  }

  /** Records that `id` answered the heartbeat with `ctx`; the acks so far, if the request is pending. */
  recvAck(id: bigint, ctx: Uint8Array): Map<bigint, boolean> | undefined {
    const rs = this.pending.get(key(ctx));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Dequeues the confirmed request with `ctx` and every request queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const k = key(ctx);
    const at = this.queue.indexOf(k);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return done.map((d) => {
      const rs = this.pending.get(d)!;
      this.pending.delete(d);
      return rs;
    });
  }

  lastPendingRequestCtx(): Uint8Array | undefined {
    const last = this.queue[this.queue.length - 1];
    return last === undefined ? undefined : this.pending.get(last)!.req.entries[0]!.data;
  }
}
