/**
 * The configuration and every member's Progress, as the leader tracks them; also the
 * votes of the current election.
 */
import { Progress } from './progress.js';
import { jointCommitted, jointIds, jointVoteResult, type JointConfig, type VoteResult } from './quorum.js';
import { sortedIds, type ConfState } from './types.js';

export interface TrackerConfig {
  readonly voters: JointConfig;
  /** Never voters; disjoint from voters.incoming and voters.outgoing. */
  readonly learners: ReadonlySet<bigint>;
  /** Outgoing voters to become learners when the joint config is left. */
  readonly learnersNext: ReadonlySet<bigint>;
  readonly autoLeave: boolean;
}

export const emptyTrackerConfig: TrackerConfig = {
  voters: { incoming: new Set(), outgoing: new Set() },
  learners: new Set(),
  learnersNext: new Set(),
  autoLeave: false,
};

export type ProgressMap = Map<bigint, Progress>;

export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig;
  progress: ProgressMap = new Map();
  votes = new Map<bigint, boolean>();

  constructor(readonly maxInflight: number) {}

  confState(): ConfState {
    return {
      voters: sortedIds(this.config.voters.incoming),
      votersOutgoing: sortedIds(this.config.voters.outgoing),
      learners: sortedIds(this.config.learners),
      learnersNext: sortedIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  isJoint(): boolean {
    return this.config.voters.outgoing.size > 0;
  }

  /** Exactly one voter and no joint state: the node commits and wins elections alone. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !this.isJoint();
  }

  /** The largest index a quorum of voters has stored. */
  committed(): number {
    return jointCommitted(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  /** Every progress in ID order, so that the messages a step produces do not depend on insertion history. */
  visit(fn: (id: bigint, pr: Progress) => void): void {
    for (const id of sortedIds(this.progress.keys())) fn(id, this.progress.get(id)!);
  }

  /** Whether a quorum of voters was heard from recently (the leader itself counts as active). */
  quorumActive(selfId: bigint): boolean {
    const votes = new Map<bigint, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) votes.set(id, id === selfId || pr.recentActive);
    });
    return jointVoteResult(this.config.voters, votes) === 'won';
  }

  voterIds(): bigint[] {
    return sortedIds(jointIds(this.config.voters));
  }

  isVoter(id: bigint): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, v] of this.votes) {
      if (!this.isVoter(id)) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }

  /** Whether a quorum of voters acknowledged (used for ReadIndex heartbeat rounds). */
  voteResult(acks: ReadonlyMap<bigint, boolean>): VoteResult {
    return jointVoteResult(this.config.voters, acks);
  }
}
