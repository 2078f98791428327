/**
 * The application's handle on a Raft node (etcd-io/raft's RawNode). The loop that drives it:
 *
 *   on a timer: node.tick(); on a peer message: node.step(m); on a client write: node.propose(data)
 *   while (node.hasReady()) {
 *     const rd = node.ready();
 *     persist rd.snapshot, rd.entries, rd.hardState (fsync if rd.mustSync)   — before anything else
 *     send rd.messages                                                          — only after persisting
 *     apply rd.snapshot and rd.committedEntries (calling applyConfChange for conf changes)
 *     node.advance(rd)
 *   }
 */
import { asV2, encodeConfChange, encodeConfChangeV1 } from './confchange-codec.js';
import { invariant, RaftError } from './errors.js';
import { Raft, type RaftConfig, type Status } from './raft.js';
import {
  ConfChangeType,
  EntryType,
  hardStateEqual,
  isEmptyHardState,
  isEmptySnapshot,
  isLocalMessage,
  isResponseMessage,
  message,
  MessageType,
  None,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type Snapshot,
  type SoftState,
} from './types.js';

export interface Ready {
  /** Present when leader or role changed; need not be persisted. */
  readonly softState?: SoftState;
  /** Present when term, vote or commit changed; persist it with the entries. */
  readonly hardState?: HardState;
  /** Linearizable read points reached since the last Ready. */
  readonly readStates: readonly ReadState[];
  /** Entries to persist before sending messages. */
  readonly entries: readonly Entry[];
  /** A snapshot to persist and then load into the state machine. */
  readonly snapshot?: Snapshot;
  /** Committed entries to apply (already persisted, or persisted by this Ready first). */
  readonly committedEntries: readonly Entry[];
  /** Messages to send once entries and hard state are durable. */
  readonly messages: readonly Message[];
  /** Whether persisting this Ready needs an fsync (new entries, or a new term or vote). */
  readonly mustSync: boolean;
}

export interface Peer {
  readonly id: bigint;
  /** Carried in the bootstrap ConfChange entry (etcd puts the member's JSON here). */
  readonly context?: Uint8Array;
}

export type SnapshotStatus = 'finish' | 'failure';

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /**
   * Starts a brand-new cluster on an empty storage: the initial members become ConfChange
   * entries 1..n of term 1, committed, so that a member added later learns them from the log.
   */
  bootstrap(peers: readonly Peer[]): void {
    if (peers.length === 0) throw new RaftError('RAFT_INVALID_CONFIG', 'Cannot bootstrap a raft cluster without peers: name at least this member');
    if (this.raft.raftLog.lastIndex() !== 0) {
      throw new RaftError('RAFT_INVALID_CONFIG', 'Cannot bootstrap a raft node whose storage is not empty: start it without bootstrap');
    }
    // Term 1 without a vote: the entries below are of term 1 and the log must not be ahead of our term.
    this.raft.becomeFollower(1, None);
    const ents: Entry[] = peers.map((p, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChangeV1({ kind: 'v1', id: 0n, type: ConfChangeType.AddNode, nodeId: p.id, context: p.context ?? new Uint8Array(0) }),
    }));
    this.raft.raftLog.append(ents);
    this.raft.raftLog.committed = ents.length;
    for (const p of peers) {
      this.raft.applyConfChange({ kind: 'v2', transition: 0, changes: [{ type: ConfChangeType.AddNode, nodeId: p.id }], context: new Uint8Array(0) });
    }
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with a pre-vote round first if preVote is on). */
  campaign(): void {
    this.raft.step(message({ type: MessageType.MsgHup, from: this.raft.id }));
  }

  /** Proposes data for the log; throws RaftError RAFT_PROPOSAL_DROPPED when it cannot be taken (no leader, transfer, limit). */
  propose(data: Uint8Array): void {
    this.proposeAll([data]);
  }

  /**
   * Proposes several entries in one message, all taken or all dropped (as propose). A leader
   * sends them to each follower in one append where one propose each would send one append each.
   */
  proposeAll(data: readonly Uint8Array[]): void {
    const entries = data.map((d) => ({ term: 0, index: 0, type: EntryType.Normal, data: d }));
    this.raft.step(message({ type: MessageType.MsgProp, from: this.raft.id, entries }));
  }

  /** Proposes a configuration change; apply it with applyConfChange once it comes back committed. */
  proposeConfChange(cc: ConfChange): void {
    const { type, data } = encodeConfChange(cc);
    this.raft.step(message({ type: MessageType.MsgProp, from: this.raft.id, entries: [{ term: 0, index: 0, type, data }] }));
  }

  /** Applies a committed conf change entry's change; returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(asV2(cc));
  }

  /** A message from a peer. Local message types and answers from unknown peers are refused. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new RaftError('RAFT_STEP_LOCAL_MSG', `Cannot step local raft message ${m.type} received from the network`);
    if (isResponseMessage(m.type) && !this.raft.tracker.progress.has(m.from)) {
      throw new RaftError('RAFT_STEP_PEER_NOT_FOUND', `Cannot step raft response from unknown member ${m.from.toString(16)}`);
    }
    this.raft.step(m);
  }

  /** Requests a linearizable read point; it arrives as a ReadState carrying ctx (unique per request). */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(message({ type: MessageType.MsgReadIndex, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: ctx }] }));
  }

  /** Asks the leader to hand leadership to `transferee` (a voter). */
  transferLeader(transferee: bigint): void {
    this.raft.step(message({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /** The transport could not reach `id`: stop pipelining to it. */
  reportUnreachable(id: bigint): void {
    this.raft.step(message({ type: MessageType.MsgUnreachable, from: id }));
  }

  /** Outcome of sending a snapshot to `id`. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.raft.step(message({ type: MessageType.MsgSnapStatus, from: id, reject: status === 'failure' }));
  }

  hasReady(): boolean {
    const r = this.raft;
    if (!softStateEqual(r.softState(), this.prevSoftState)) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.raftLog.hasNextEnts()) return true;
    return r.readStates.length > 0;
  }

  /** What to persist, send and apply now. Call advance(rd) when done, before the next ready(). */
  ready(): Ready {
    const r = this.raft;
    const soft = r.softState();
    const hard = r.hardState();
    const entries = [...r.raftLog.unstableEntries()];
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries: r.raftLog.nextEnts(),
      messages: r.msgs,
      mustSync: entries.length > 0 || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
      ...(softStateEqual(soft, this.prevSoftState) ? {} : { softState: soft }),
      ...(isEmptyHardState(hard) || hardStateEqual(hard, this.prevHardState) ? {} : { hardState: hard }),
      ...(r.raftLog.unstable.snapshot !== undefined ? { snapshot: r.raftLog.unstable.snapshot } : {}),
    };
    if (rd.softState !== undefined) this.prevSoftState = rd.softState;
    r.readStates = [];
    r.msgs = [];
    return rd;
  }

  /** The Ready was persisted, sent and applied. */
  advance(rd: Ready): void {
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    const snapIndex = isEmptySnapshot(rd.snapshot) ? 0 : rd.snapshot!.metadata.index;
    const appliedTo = lastCommitted?.index ?? snapIndex;
    invariant(appliedTo === 0 || appliedTo >= this.raft.raftLog.applied, () => `advance to ${appliedTo} goes behind applied ${this.raft.raftLog.applied}: was advance called twice?`);
    this.raft.advance(appliedTo, rd.committedEntries, rd.entries[rd.entries.length - 1], snapIndex);
  }

  status(): Status {
    return this.raft.status();
  }

  /** The node's ID. */
  get id(): bigint {
    return this.raft.id;
  }
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}
