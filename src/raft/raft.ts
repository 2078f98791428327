/**
 * The Raft state machine (after etcd-io/raft's raft.go): messages and ticks go in,
 * messages, log changes and state changes come out through the fields RawNode reads.
 * Everything is synchronous and deterministic; the only randomness is the election
 * timeout, drawn from a PRNG seeded by the configuration.
 */
import { Changer, type ChangeResult } from './confchange.js';
import { asV2, decodeConfChangeEntry, entersJoint, leavesJoint } from './confchange-codec.js';
import { errProposalDropped, invariant, isRaftError, RaftError } from './errors.js';
import { Progress } from './progress.js';
import { noLimit, RaftLog } from './log.js';
import { Prng, seedFromId } from './prng.js';
import { ReadOnly, type ReadOnlyOption } from './read-only.js';
import type { Storage } from './storage.js';
import { emptyTrackerConfig, ProgressTracker } from './tracker.js';
import {
  emptyBytes,
  EntryType,
  isEmptyHardState,
  isEmptySnapshot,
  message,
  MessageType,
  None,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type Snapshot,
  type SoftState,
  type StateType,
} from './types.js';

/** Structured logging hook; src/util's Logger satisfies it. */
export interface RaftLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface RaftConfig {
  /** This node's member ID (not 0). */
  readonly id: bigint;
  /** Ticks a follower waits without hearing from a leader before campaigning (randomized to [n, 2n)). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats; must be less than electionTick. */
  readonly heartbeatTick: number;
  readonly storage: Storage;
  /** The last index the application applied before this start (its state machine already contains it). */
  readonly applied?: number;
  /** Upper bound of the entries' bytes in one append message. */
  readonly maxSizePerMsg?: number;
  /** Upper bound of the committed entries' bytes in one Ready. */
  readonly maxCommittedSizePerReady?: number;
  /** Upper bound of the bytes of uncommitted proposals a leader accepts; further proposals are dropped. */
  readonly maxUncommittedEntriesSize?: number;
  /** Append messages in flight to one follower in replicate state. */
  readonly maxInflightMsgs?: number;
  /** A leader without a quorum of recently active followers steps down; followers with a live leader ignore votes. */
  readonly checkQuorum?: boolean;
  /** Campaign with a pre-vote round first, so a partitioned node does not drive terms up. */
  readonly preVote?: boolean;
  readonly readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  readonly disableProposalForwarding?: boolean;
  /** Seed of the election-timeout PRNG; defaults to one derived from the ID. */
  readonly randomSeed?: number;
  readonly logger?: RaftLogger;
}

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly pendingSnapshot: number;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  readonly inflight: number;
}

export interface Status {
  readonly id: bigint;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly leadTransferee: bigint;
  readonly config: ConfState;
  /** Every member's progress; only on the leader. */
  readonly progress?: ReadonlyMap<bigint, ProgressStatus>;
}

const campaignTransferContext = new TextEncoder().encode('CampaignTransfer');

type CampaignType = 'preElection' | 'election' | 'transfer';

const silent: RaftLogger = { info: () => undefined, warn: () => undefined };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function hex(id: bigint): string {
  return id.toString(16);
}

function voteResponseType(t: MessageType): MessageType {
  return t === MessageType.MsgVote ? MessageType.MsgVoteResp : MessageType.MsgPreVoteResp;
}

export class Raft {
  readonly id: bigint;
  term = 0;
  vote: bigint = None;
  lead: bigint = None;
  state: StateType = 'follower';
  readonly raftLog: RaftLog;
  readonly tracker: ProgressTracker;
  isLearner = false;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** The member leadership is being handed to, while a transfer runs. */
  leadTransferee: bigint = None;
  /** Index of the latest conf change proposed; no new one is accepted until it is applied. */
  pendingConfIndex = 0;
  private uncommittedSize = 0;
  private readOnly: ReadOnly;
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  private readonly disableProposalForwarding: boolean;
  private readonly maxMsgSize: number;
  private readonly maxUncommittedSize: number;
  private readonly rand: Prng;
  private readonly logger: RaftLogger;

  constructor(c: RaftConfig) {
    validateConfig(c);
    this.id = c.id;
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize ?? noLimit;
    this.readOnly = new ReadOnly(c.readOnlyOption ?? 'safe');
    this.rand = new Prng(c.randomSeed ?? seedFromId(c.id));
    this.logger = c.logger ?? silent;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? 16 * 1024 * 1024);
    this.tracker = new ProgressTracker(c.maxInflightMsgs ?? 256);

    const { hardState, confState } = c.storage.initialState();
    const restored = Changer.of(this.tracker, this.raftLog.lastIndex()).restore(confState);
    this.switchToConfig(restored);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if ((c.applied ?? 0) > 0) this.raftLog.appliedTo(c.applied!);
    this.becomeFollower(this.term, None);
  }

  // ---- state queries ----------------------------------------------------------------

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  status(): Status {
    const base = {
      id: this.id,
      hardState: this.hardState(),
      softState: this.softState(),
      applied: this.raftLog.applied,
      leadTransferee: this.leadTransferee,
      config: this.tracker.confState(),
    };
    if (this.state !== 'leader') return base;
    const progress = new Map<bigint, ProgressStatus>();
    this.tracker.visit((id, pr) =>
      progress.set(id, {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        pendingSnapshot: pr.pendingSnapshot,
        recentActive: pr.recentActive,
        isLearner: pr.isLearner,
        inflight: pr.inflights.count,
      }),
    );
    return { ...base, progress };
  }

  /** A voter with no snapshot pending may campaign; learners and removed nodes may not. */
  promotable(): boolean {
    const pr = this.tracker.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  // ---- sending ------------------------------------------------------------------------

  private send(fields: Partial<Message> & Pick<Message, 'type'>): void {
    const m = message({ from: this.id, ...fields });
    const isVote =
      m.type === MessageType.MsgVote ||
      m.type === MessageType.MsgVoteResp ||
      m.type === MessageType.MsgPreVote ||
      m.type === MessageType.MsgPreVoteResp;
    if (isVote) {
      // Vote traffic names its own term: a pre-vote asks about the next term, not ours.
      invariant(m.term !== 0, () => `term must be set for ${m.type}`);
      this.msgs.push(m);
    } else if (m.type === MessageType.MsgProp || m.type === MessageType.MsgReadIndex) {
      // Forwarded requests carry no term: the leader treats them as local.
      this.msgs.push(m);
    } else {
      this.msgs.push({ ...m, term: this.term });
    }
  }

  /** Sends an append (or a snapshot) to `to` if flow control allows; whether anything was sent. */
  private maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevTerm = this.raftLog.term(pr.next - 1);
    const ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    if (ents !== undefined && ents.length === 0 && !sendIfEmpty) return false;

    if (prevTerm === undefined || ents === undefined) {
      // The entries the follower needs are compacted: it needs a snapshot.
      if (!pr.recentActive) return false;
      let snap: Snapshot;
      try {
        snap = this.raftLog.snapshot();
      } catch (err) {
        if (isRaftError(err, 'RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE')) return false;
        throw err;
      }
      invariant(!isEmptySnapshot(snap), () => `need a non-empty snapshot to send to ${hex(to)}`);
      pr.becomeSnapshot(snap.metadata.index);
      this.send({ type: MessageType.MsgSnap, to, snapshot: snap });
      return true;
    }
    this.send({
      type: MessageType.MsgApp,
      to,
      index: pr.next - 1,
      logTerm: prevTerm,
      entries: ents,
      commit: this.raftLog.committed,
    });
    pr.sentEntries(ents.length > 0 ? ents[ents.length - 1]!.index : undefined);
    return true;
  }

  private sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  private sendHeartbeat(to: bigint, ctx: Uint8Array): void {
    // A follower may not have the whole committed log yet: only tell it what it has matched.
    const commit = Math.min(this.tracker.progress.get(to)!.match, this.raftLog.committed);
    this.send({ type: MessageType.MsgHeartbeat, to, commit, context: ctx });
  }

  private bcastAppend(): void {
    this.tracker.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  private bcastHeartbeat(ctx: Uint8Array = this.readOnly.lastPendingRequestCtx() ?? emptyBytes): void {
    this.tracker.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  // ---- committing ---------------------------------------------------------------------

  /** Advances the commit index to what a quorum has stored, if that entry is from our term. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.tracker.committed(), this.term);
  }

  private committedEntryInCurrentTerm(): boolean {
    return (this.raftLog.term(this.raftLog.committed) ?? 0) === this.term;
  }

  /** Appends proposals as the leader; false when the uncommitted-size limit refuses them. */
  appendEntry(es: readonly Omit<Entry, 'term' | 'index'>[]): boolean {
    const li = this.raftLog.lastIndex();
    const ents: Entry[] = es.map((e, i) => ({ type: e.type, data: e.data, term: this.term, index: li + 1 + i }));
    if (!this.increaseUncommittedSize(ents)) {
      this.logger.warn('appending new entries to the log would exceed the uncommitted entry size limit; dropping proposal', {
        id: hex(this.id),
      });
      return false;
    }
    const last = this.raftLog.append(ents);
    this.tracker.progress.get(this.id)!.maybeUpdate(last);
    this.maybeCommit();
    return true;
  }

  private increaseUncommittedSize(ents: readonly Entry[]): boolean {
    let s = 0;
    for (const e of ents) s += e.data.length;
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  reduceUncommittedSize(ents: readonly Entry[]): void {
    let s = 0;
    for (const e of ents) s += e.data.length;
    // Entries committed before this leader's term were never counted: floor at zero.
    this.uncommittedSize = Math.max(0, this.uncommittedSize - s);
  }

  // ---- role changes -------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
    this.leadTransferee = None;
    this.tracker.resetVotes();
    const last = this.raftLog.lastIndex();
    this.tracker.visit((id, pr) => {
      this.tracker.progress.set(
        id,
        new Progress({
          next: last + 1,
          match: id === this.id ? last : 0,
          maxInflight: this.tracker.maxInflight,
          isLearner: pr.isLearner,
          recentActive: false,
        }),
      );
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
  }

  private becomeCandidate(): void {
    invariant(this.state !== 'leader', () => 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
    this.logger.info('became candidate', { id: hex(this.id), term: this.term });
  }

  private becomePreCandidate(): void {
    invariant(this.state !== 'leader', () => 'invalid transition [leader -> pre-candidate]');
    // A pre-vote changes neither term nor vote: a failed pre-election leaves no trace.
    this.tracker.resetVotes();
    this.lead = None;
    this.state = 'preCandidate';
  }

  private becomeLeader(): void {
    invariant(this.state !== 'follower', () => 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    this.tracker.progress.get(this.id)!.becomeReplicate();
    // Any conf change in the uncommitted tail may still be pending; be conservative.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // The empty entry of our term: committing it commits everything before it (§5.4.2).
    const ok = this.appendEntry([{ type: EntryType.Normal, data: emptyBytes }]);
    invariant(ok, () => 'the empty entry of a new leader was refused');
    this.logger.info('became leader', { id: hex(this.id), term: this.term });
  }

  private hup(t: CampaignType): void {
    if (this.state === 'leader') return;
    if (!this.promotable()) {
      this.logger.warn('is unpromotable and can not campaign', { id: hex(this.id) });
      return;
    }
    // Applying a pending conf change may remove us or change the quorum: wait for it.
    const unapplied = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, noLimit) ?? [];
    if (unapplied.some((e) => e.type !== EntryType.Normal)) {
      this.logger.warn('cannot campaign while a committed conf change is not applied', { id: hex(this.id), term: this.term });
      return;
    }
    this.campaign(t);
  }

  private campaign(t: CampaignType): void {
    let voteType: MessageType;
    let term: number;
    if (t === 'preElection') {
      this.becomePreCandidate();
      voteType = MessageType.MsgPreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.MsgVote;
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // Alone in the configuration: won outright.
      if (t === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.tracker.voterIds()) {
      if (id === this.id) continue;
      this.send({
        type: voteType,
        to: id,
        term,
        index: lastIndex,
        logTerm: lastTerm,
        context: t === 'transfer' ? campaignTransferContext : emptyBytes,
      });
    }
  }

  private poll(id: bigint, granted: boolean): 'pending' | 'lost' | 'won' {
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes().result;
  }

  // ---- ticks --------------------------------------------------------------------------

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: MessageType.MsgCheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === 'leader' && this.leadTransferee !== None) this.abortLeaderTransfer();
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  // ---- stepping -----------------------------------------------------------------------

  /** Feeds one message in; throws RaftError RAFT_PROPOSAL_DROPPED when a proposal cannot be taken. */
  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = sameBytes(m.context, campaignTransferContext);
        const inLease = this.checkQuorum && this.lead !== None && this.electionElapsed < this.electionTimeout;
        // Leader lease: while we hear from a leader, a vote request is disruption, not news.
        if (!force && inLease) return;
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change our term because of a pre-vote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // The term in a granted pre-vote is the one we are about to campaign for.
      } else if (m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, None);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
        // A leader cut off from us kept its old term (pre-vote or lease kept it from
        // learning of ours); answering makes it step down instead of being stuck.
        this.send({ type: MessageType.MsgAppResp, to: m.from });
      } else if (m.type === MessageType.MsgPreVote) {
        // Rejecting with our term lets a pre-candidate behind us catch up on terms.
        this.send({ type: MessageType.MsgPreVoteResp, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? 'preElection' : 'election');
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        const canVote =
          this.vote === m.from ||
          (this.vote === None && this.lead === None) ||
          (m.type === MessageType.MsgPreVote && m.term > this.term);
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          this.send({ type: voteResponseType(m.type), to: m.from, term: m.term });
          if (m.type === MessageType.MsgVote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true });
        }
        return;
      }
      default:
        if (this.state === 'leader') this.stepLeader(m);
        else if (this.state === 'follower') this.stepFollower(m);
        else this.stepCandidate(m);
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.MsgBeat:
        this.bcastHeartbeat();
        return;
      case MessageType.MsgCheckQuorum:
        if (!this.tracker.quorumActive(this.id)) {
          this.logger.warn('stepped down to follower since quorum is not active', { id: hex(this.id), term: this.term });
          this.becomeFollower(this.term, None);
        }
        this.tracker.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      case MessageType.MsgProp:
        this.propose(m);
        return;
      case MessageType.MsgReadIndex:
        if (this.tracker.isSingleton()) {
          this.respondToReadIndex(m, this.raftLog.committed);
        } else if (!this.committedEntryInCurrentTerm()) {
          // Our commit index may lag the cluster's until an entry of our term commits.
          this.pendingReadIndexMessages.push(m);
        } else {
          this.handleReadIndex(m);
        }
        return;
    }

    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.MsgAppResp: {
        pr.recentActive = true;
        if (m.reject) {
          let nextProbe = m.rejectHint;
          if (m.logTerm > 0) nextProbe = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
          if (pr.maybeDecrTo(m.index, nextProbe)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const oldPaused = pr.isPaused();
        if (!pr.maybeUpdate(m.index)) return;
        if (pr.state === 'probe') pr.becomeReplicate();
        else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

        if (this.maybeCommit()) {
          this.releasePendingReadIndexMessages();
          this.bcastAppend();
        } else if (oldPaused) {
          this.sendAppend(m.from);
        }
        // Flow control may have freed room for several messages at once.
        while (this.maybeSendAppend(m.from, false)) {
          // keep sending
        }
        if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
          this.send({ type: MessageType.MsgTimeoutNow, to: m.from });
        }
        return;
      }
      case MessageType.MsgHeartbeatResp: {
        pr.recentActive = true;
        pr.probeSent = false;
        // A full window with lost acks would stall forever: free one slot per heartbeat.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
        if (this.readOnly.option !== 'safe' || m.context.length === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (acks === undefined || this.tracker.voteResult(acks) !== 'won') return;
        for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index);
        return;
      }
      case MessageType.MsgSnapStatus:
        if (pr.state !== 'snapshot') return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the follower's answer (or a heartbeat interval after a failure) before the next append.
        pr.probeSent = true;
        return;
      case MessageType.MsgUnreachable:
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      case MessageType.MsgTransferLeader: {
        if (pr.isLearner) return;
        const transferee = m.from;
        if (this.leadTransferee !== None) {
          if (this.leadTransferee === transferee) return;
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) return;
        // The transfer must finish within an election timeout.
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) this.send({ type: MessageType.MsgTimeoutNow, to: transferee });
        else this.sendAppend(transferee);
        return;
      }
    }
  }

  private propose(m: Message): void {
    invariant(m.entries.length > 0, () => `${hex(this.id)} stepped an empty MsgProp`);
    if (!this.tracker.progress.has(this.id)) throw errProposalDropped('this member was removed from the configuration');
    if (this.leadTransferee !== None) throw errProposalDropped(`leadership is being transferred to ${hex(this.leadTransferee)}`);
    const ents = m.entries.map((e, i) => {
      const cc = decodeConfChangeEntry(e);
      if (cc === undefined) return e;
      const v2 = asV2(cc);
      const alreadyPending = this.pendingConfIndex > this.raftLog.applied;
      const alreadyJoint = this.tracker.isJoint();
      const wantsLeaveJoint = v2.changes.length === 0;
      let refused: string | undefined;
      if (alreadyPending) refused = `a conf change at index ${this.pendingConfIndex} is not applied yet (applied ${this.raftLog.applied})`;
      else if (alreadyJoint && !wantsLeaveJoint) refused = 'the configuration is joint: leave it first';
      else if (!alreadyJoint && wantsLeaveJoint) refused = 'not in a joint configuration: refusing an empty conf change';
      if (refused !== undefined) {
        // Keep the slot (callers may track proposals by position) but make it a no-op.
        this.logger.info('ignoring conf change', { id: hex(this.id), reason: refused });
        return { ...e, type: EntryType.Normal, data: emptyBytes };
      }
      this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
      return e;
    });
    if (!this.appendEntry(ents)) throw errProposalDropped('too many uncommitted entries');
    this.bcastAppend();
  }

  private handleReadIndex(m: Message): void {
    if (this.readOnly.option === 'leaseBased') {
      this.respondToReadIndex(m, this.raftLog.committed);
      return;
    }
    this.readOnly.addRequest(this.raftLog.committed, m);
    // The leader acknowledges its own request.
    this.readOnly.recvAck(this.id, m.entries[0]!.data);
    this.bcastHeartbeat(m.entries[0]!.data);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.handleReadIndex(m);
  }

  private respondToReadIndex(req: Message, index: number): void {
    const ctx = req.entries[0]!.data;
    if (req.from === None || req.from === this.id) {
      this.readStates.push({ index, requestCtx: ctx });
    } else {
      this.send({ type: MessageType.MsgReadIndexResp, to: req.from, index, entries: req.entries });
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.state === 'preCandidate' ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    switch (m.type) {
      case MessageType.MsgProp:
        throw errProposalDropped('no leader: an election is in progress');
      case MessageType.MsgApp:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteResp: {
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.state === 'preCandidate') this.campaign('election');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          // A rejected pre-vote carries the voter's term; a lost election keeps ours.
          this.becomeFollower(this.term, None);
        }
        return;
      }
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.lead === None) throw errProposalDropped('no leader');
        if (this.disableProposalForwarding) throw errProposalDropped('proposal forwarding is disabled');
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgApp:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.MsgTransferLeader:
        if (this.lead === None) return;
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgTimeoutNow:
        // The leader handed over: campaign at once, past any leader lease.
        this.hup('transfer');
        return;
      case MessageType.MsgReadIndex:
        if (this.lead === None) return;
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgReadIndexResp:
        if (m.entries.length !== 1) return;
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed });
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send({ type: MessageType.MsgAppResp, to: m.from, index: lastNew });
      return;
    }
    // Reject with a hint: our last index at or below m.index whose term is ≤ m.logTerm,
    // so the leader can skip whole terms instead of probing one entry at a time.
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send({
      type: MessageType.MsgAppResp,
      to: m.from,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    });
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send({ type: MessageType.MsgHeartbeatResp, to: m.from, context: m.context });
  }

  private handleSnapshot(m: Message): void {
    const snap = m.snapshot;
    if (snap !== undefined && this.restore(snap)) {
      this.logger.info('restored snapshot', { id: hex(this.id), index: snap.metadata.index, term: snap.metadata.term });
      this.send({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.lastIndex() });
    } else {
      this.send({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed });
    }
  }

  /** Replaces the log with a snapshot; false when the snapshot brings nothing new. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== 'follower') {
      // Only a follower of the sender's term gets here; anything else is a bug elsewhere.
      this.becomeFollower(this.term + 1, None);
      return false;
    }
    const cs = s.metadata.confState;
    if (![...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(this.id)) {
      this.logger.warn('attempted to restore snapshot but it is not in the ConfState', { id: hex(this.id) });
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the snapshot's last entry: just move the commit index forward.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    // The snapshot's configuration replaces ours wholesale.
    const empty = { config: emptyTrackerConfig, progress: new Map<bigint, Progress>() };
    this.switchToConfig(new Changer(empty, this.tracker.maxInflight, this.raftLog.lastIndex()).restore(cs));
    const pr = this.tracker.progress.get(this.id);
    if (pr !== undefined) pr.maybeUpdate(pr.next - 1);
    return true;
  }

  // ---- configuration ------------------------------------------------------------------

  /** Applies a committed conf change; throws RAFT_INVALID_CONF_CHANGE (and changes nothing) if it is not valid. */
  applyConfChange(cc: ConfChangeV2): ConfState {
    const changer = Changer.of(this.tracker, this.raftLog.lastIndex());
    let result: ChangeResult;
    if (leavesJoint(cc)) result = changer.leaveJoint();
    else {
      const { joint, autoLeave } = entersJoint(cc);
      result = joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    return this.switchToConfig(result);
  }

  private switchToConfig(result: ChangeResult): ConfState {
    this.tracker.config = result.config;
    this.tracker.progress = result.progress;
    const cs = this.tracker.confState();
    const pr = this.tracker.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.state === 'leader') {
      // A leader removed (or demoted) by the change it just applied steps down; the
      // remaining voters elect a leader among themselves.
      this.logger.info('stepping down: no longer a voter', { id: hex(this.id), term: this.term });
      this.becomeFollower(this.term, None);
      return cs;
    }
    if (this.state !== 'leader' || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      // The new quorum may commit more at once.
      this.bcastAppend();
    } else {
      // Probe new members right away rather than on the next heartbeat.
      this.tracker.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== None && !this.tracker.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  private loadState(hs: HardState): void {
    invariant(
      hs.commit <= this.raftLog.lastIndex(),
      () => `hard state commit ${hs.commit} is past the last index ${this.raftLog.lastIndex()}: the log is corrupt or truncated`,
    );
    // A snapshot persisted without the hard state that came with it is still committed.
    this.raftLog.committed = Math.max(hs.commit, this.raftLog.committed);
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Called by RawNode.advance: the application persisted and applied what the Ready held. */
  advance(appliedTo: number, committedEntries: readonly Entry[], lastPersisted: Entry | undefined, snapshotIndex: number): void {
    this.reduceUncommittedSize(committedEntries);
    if (appliedTo > 0) {
      const oldApplied = this.raftLog.applied;
      this.raftLog.appliedTo(appliedTo);
      if (
        this.tracker.config.autoLeave &&
        oldApplied <= this.pendingConfIndex &&
        appliedTo >= this.pendingConfIndex &&
        this.state === 'leader'
      ) {
        // The joint configuration asked to be left automatically: propose that now (an
        // empty ConfChangeV2), which nothing may refuse.
        const ok = this.appendEntry([{ type: EntryType.ConfChangeV2, data: emptyBytes }]);
        invariant(ok, () => 'the automatic leave-joint proposal was refused');
        this.pendingConfIndex = this.raftLog.lastIndex();
        this.bcastAppend();
        this.logger.info('initiating automatic transition out of joint configuration', { id: hex(this.id) });
      }
    }
    if (lastPersisted !== undefined) this.raftLog.stableTo(lastPersisted.index, lastPersisted.term);
    if (snapshotIndex > 0) this.raftLog.stableSnapTo(snapshotIndex);
  }
}

function validateConfig(c: RaftConfig): void {
  const bad = (why: string): RaftError => new RaftError('RAFT_INVALID_CONFIG', `Invalid raft configuration: ${why}`);
  if (c.id === None) throw bad('the node ID must not be 0');
  if (!(c.heartbeatTick > 0)) throw bad('heartbeatTick must be greater than 0');
  if (!(c.electionTick > c.heartbeatTick)) throw bad('electionTick must be greater than heartbeatTick');
  if ((c.maxInflightMsgs ?? 256) <= 0) throw bad('maxInflightMsgs must be greater than 0');
  if (c.readOnlyOption === 'leaseBased' && c.checkQuorum !== true) throw bad('checkQuorum must be enabled when readOnlyOption is leaseBased');
}
