import {
  RaftError,
  isRaftError,
  type ConfChange,
  type ConfState,
  type Entry,
  type MemoryStorage,
  type Message,
  type RawNode,
  type ReadState,
  type Snapshot,
  type SoftState,
  type Status,
} from '../../raft/index.js';
import type { HardState, WalEntry } from '../wal/index.js';

/** What the loop needs from the WAL: durable appends (one per Ready: group commit). */
export interface DurableLog {
  append(entries: readonly WalEntry[], hardState?: HardState): Promise<void>;
  saveSnapshotMarker(term: number, index: number): Promise<void>;
}

export interface RaftLoopHooks {
  /** Messages to peers; called only once what they announce is durable. */
  send(messages: readonly Message[]): void;
  /** Committed entries, in order, conf changes included (call applyConfChange for those). */
  apply(entries: readonly Entry[]): void;
  /** A snapshot from the leader, already recorded in the WAL: load the state machine from it before later entries apply. */
  installSnapshot(snapshot: Snapshot): Promise<void>;
  readStates(states: readonly ReadState[]): void;
  softState(state: SoftState): void;
  /** The WAL could not be written or an entry could not be applied: the loop stopped. */
  fatal(err: unknown): void;
}

const loopStopped = (): RaftError => new RaftError('RAFT_PROPOSAL_DROPPED', 'the raft loop has stopped');

interface PendingProposal {
  data: Uint8Array;
  onRefused: (err: unknown) => void;
}

/**
 * Drives a RawNode: ticks on a timer, and for every Ready persists a snapshot's marker, entries
 * and hard state in one WAL write, then sends messages, then installs the snapshot and applies
 * committed entries, then advances. Steps and proposals arriving while an append is in flight
 * are taken into the next Ready; the proposals as one raft message, so that a leader under load
 * sends each follower one append per Ready rather than one per proposal.
 */
export class RaftLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private busy = false;
  private again = false;
  private failed = false;
  private persisted: HardState;
  private proposals: PendingProposal[] = [];

  constructor(
    private readonly node: RawNode,
    private readonly storage: MemoryStorage,
    private readonly wal: DurableLog,
    private readonly hooks: RaftLoopHooks,
  ) {
    this.persisted = node.status().hardState;
  }

  /** The hard state as last made durable: term and commit index for headers and Status. */
  get hardState(): HardState {
    return this.persisted;
  }

  start(tickMs: number): void {
    this.timer = setInterval(() => {
      this.node.tick();
      this.kick();
    }, tickMs);
  }

  /** Stops ticking and waits for the Ready being handled. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.failed = true;
    await this.running;
    this.refuseQueued();
  }

  /**
   * Queues data for the log. `onRefused` gets the error when raft refuses it (RaftError
   * RAFT_PROPOSAL_DROPPED: no leader, leadership transfer, too much uncommitted), now or once
   * the Ready in flight is done.
   */
  propose(data: Uint8Array, onRefused: (err: unknown) => void): void {
    if (this.failed) {
      onRefused(loopStopped());
      return;
    }
    this.proposals.push({ data, onRefused });
    this.kick();
  }

  proposeConfChange(cc: ConfChange): void {
    this.node.proposeConfChange(cc);
    this.kick();
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.node.applyConfChange(cc);
  }

  readIndex(ctx: Uint8Array): void {
    this.node.readIndex(ctx);
    this.kick();
  }

  campaign(): void {
    this.node.campaign();
    this.kick();
  }

  transferLeader(transferee: bigint): void {
    this.node.transferLeader(transferee);
    this.kick();
  }

  /** A message from a peer; ones raft refuses from the network (local types, unknown senders) are dropped. */
  step(m: Message): void {
    try {
      this.node.step(m);
    } catch (err) {
      if (isRaftError(err, 'RAFT_STEP_LOCAL_MSG') || isRaftError(err, 'RAFT_STEP_PEER_NOT_FOUND')) return;
      throw err;
    }
    this.kick();
  }

  reportUnreachable(id: bigint): void {
    this.node.reportUnreachable(id);
  }

  reportSnapshot(id: bigint, ok: boolean): void {
    this.node.reportSnapshot(id, ok ? 'finish' : 'failure');
    this.kick();
  }

  status(): Status {
    return this.node.status();
  }

  /** Resolves once every Ready available now has been handled. */
  async drain(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.failed) return;
    // Set before handleReadies runs: a hook that proposes during a Ready must not start a second one.
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = this.handleReadies().finally(() => {
      this.busy = false;
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async handleReadies(): Promise<void> {
    try {
      while (!this.failed) {
        this.takeProposals();
        if (!this.node.hasReady()) break;
        this.again = false;
        const rd = this.node.ready();
        if (rd.softState) this.hooks.softState(rd.softState);
        const durable: Promise<void>[] = [];
        // Queued before the entries that follow it, so the WAL never holds them without it.
        if (rd.snapshot) durable.push(this.wal.saveSnapshotMarker(rd.snapshot.metadata.term, rd.snapshot.metadata.index));
        if (rd.entries.length > 0 || rd.hardState) durable.push(this.wal.append(rd.entries, rd.hardState));
        await Promise.all(durable);
        if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
        this.storage.append(rd.entries);
        if (rd.hardState) {
          this.storage.setHardState(rd.hardState);
          this.persisted = rd.hardState;
        }
        if (rd.messages.length > 0) this.hooks.send(rd.messages);
        if (rd.snapshot) await this.hooks.installSnapshot(rd.snapshot);
        if (rd.committedEntries.length > 0) this.hooks.apply(rd.committedEntries);
        if (rd.readStates.length > 0) this.hooks.readStates(rd.readStates);
        this.node.advance(rd);
      }
    } catch (err) {
      this.failed = true;
      clearInterval(this.timer);
      this.refuseQueued();
      this.hooks.fatal(err);
    }
  }

  private refuseQueued(): void {
    const queued = this.proposals;
    this.proposals = [];
    for (const p of queued) p.onRefused(loopStopped());
  }

  private takeProposals(): void {
    if (this.proposals.length === 0) return;
    const batch = this.proposals;
    this.proposals = [];
    try {
      this.node.proposeAll(batch.map((p) => p.data));
    } catch (err) {
      for (const p of batch) p.onRefused(err);
    }
  }
}
