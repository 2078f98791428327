import type { HardState, WalEntry } from '../wal/types.js';

/** Raft's entry type for ordinary requests (conf changes get their own types). */
export const ENTRY_NORMAL = 0;

/** What the log needs from the WAL: durable appends. */
export interface DurableLog {
  append(entries: WalEntry[], hardState?: HardState): Promise<void>;
}

export interface SingleMemberLogOptions {
  memberId: bigint;
  /** The term and last index found in the WAL on start. */
  term: number;
  lastIndex: number;
  /** Called with entries once they are durable (committed: this member is the whole quorum). */
  onCommitted: (entries: WalEntry[]) => void;
  /** Called when the WAL cannot be written: nothing more can be accepted. */
  onFatal: (err: unknown) => void;
}

/**
 * The log of a one-member cluster: an entry is committed as soon as it is durable.
 * Proposals that arrive while an append is in flight are batched into the next append, so
 * one fdatasync covers many concurrent requests (group commit), and the next batch is
 * written while the previous one is applied.
 *
 * Each start is a new term with an empty entry first, as a newly elected etcd leader does.
 */
export class SingleMemberLog {
  private queue: Buffer[] = [];
  private appending = false;
  private failed: unknown;
  private lastIndex: number;
  readonly term: number;
  private committed: number;

  constructor(private readonly wal: DurableLog, private readonly options: SingleMemberLogOptions) {
    this.term = options.term + 1;
    this.lastIndex = options.lastIndex;
    this.committed = options.lastIndex;
    this.queue.push(Buffer.alloc(0));
    this.flush();
  }

  get commitIndex(): number {
    return this.committed;
  }

  /** The index the last proposal will get; for Status. */
  get lastLogIndex(): number {
    return this.lastIndex;
  }

  propose(data: Buffer): void {
    if (this.failed !== undefined) throw this.failed;
    this.queue.push(data);
    this.flush();
  }

  private flush(): void {
    if (this.appending || this.queue.length === 0 || this.failed !== undefined) return;
    const batch = this.queue;
    this.queue = [];
    const entries: WalEntry[] = batch.map((data) => ({ term: this.term, index: ++this.lastIndex, type: ENTRY_NORMAL, data }));
    const last = this.lastIndex;
    this.appending = true;
    this.wal
      .append(entries, { term: this.term, vote: this.options.memberId, commit: last })
      .then(
        () => {
          this.appending = false;
          this.committed = last;
          this.flush();
          this.options.onCommitted(entries);
        },
        (err: unknown) => {
          this.appending = false;
          this.failed = err;
          this.options.onFatal(err);
        },
      );
  }
}
