import { EtcdError } from '../../api/etcd-errors.js';
import type { ReadState } from '../../raft/index.js';

interface Pending {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface ReadIndexSource {
  /** Asks raft for a read point carrying ctx; throws when raft refuses at once. */
  readIndex(ctx: Uint8Array): void;
  hasLeader(): boolean;
  appliedIndex(): number;
}

/**
 * Linearizable reads as etcd serves them: reads that arrive together share one ReadIndex
 * round; each waits until the member has applied up to the index the leader confirmed, so a
 * read on any member sees every write acknowledged before it started.
 */
export class LinearizableReads {
  private queued: Pending[] = [];
  private inFlight: { ctx: bigint; readers: Pending[]; timer: NodeJS.Timeout } | undefined;
  private waitingApply: Array<{ index: number; readers: Pending[] }> = [];
  private nextCtx = 1n;

  constructor(private readonly source: ReadIndexSource, private readonly timeoutMs: number) {}

  /** Resolves when a read served now from the applied state is linearizable. */
  wait(): Promise<void> {
    if (!this.source.hasLeader()) return Promise.reject(new EtcdError('noLeader'));
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ resolve, reject });
      this.issue();
    });
  }

  onReadStates(states: readonly ReadState[]): void {
    for (const state of states) {
      const round = this.inFlight;
      if (!round || state.requestCtx.length !== 8 || Buffer.from(state.requestCtx).readBigUInt64BE(0) !== round.ctx) continue;
      clearTimeout(round.timer);
      this.inFlight = undefined;
      this.waitingApply.push({ index: state.index, readers: round.readers });
      this.onApplied();
      this.issue();
    }
  }

  onApplied(): void {
    const applied = this.source.appliedIndex();
    const ready = this.waitingApply.filter((w) => w.index <= applied);
    if (ready.length === 0) return;
    this.waitingApply = this.waitingApply.filter((w) => w.index > applied);
    for (const w of ready) for (const r of w.readers) r.resolve();
  }

  failAll(err: unknown): void {
    const all = [...this.queued, ...(this.inFlight?.readers ?? []), ...this.waitingApply.flatMap((w) => w.readers)];
    if (this.inFlight) clearTimeout(this.inFlight.timer);
    this.queued = [];
    this.inFlight = undefined;
    this.waitingApply = [];
    for (const r of all) r.reject(err);
  }

  private issue(): void {
    if (this.inFlight || this.queued.length === 0) return;
    const ctx = this.nextCtx++;
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(ctx);
    const readers = this.queued;
    this.queued = [];
    const timer = setTimeout(() => {
      if (this.inFlight?.ctx !== ctx) return;
      this.inFlight = undefined;
      for (const r of readers) r.reject(new EtcdError(this.source.hasLeader() ? 'timeout' : 'noLeader'));
      this.issue();
    }, this.timeoutMs);
    this.inFlight = { ctx, readers, timer };
    try {
      this.source.readIndex(bytes);
    } catch (err) {
      clearTimeout(timer);
      this.inFlight = undefined;
      for (const r of readers) r.reject(err);
    }
  }
}
