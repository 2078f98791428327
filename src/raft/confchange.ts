/**
 * Computes the configuration (and progress map) that results from a conf change, without
 * touching the tracker: the caller switches to the result. Simple changes alter at most
 * one voter; anything more goes through a joint configuration (enterJoint, then leaveJoint).
 */
import { RaftError } from './errors.js';
import { Progress } from './progress.js';
import type { ProgressMap, ProgressTracker, TrackerConfig } from './tracker.js';
import { ConfChangeType, type ConfChangeSingle, type ConfState } from './types.js';

interface MutableConfig {
  incoming: Set<bigint>;
  outgoing: Set<bigint>;
  learners: Set<bigint>;
  learnersNext: Set<bigint>;
  autoLeave: boolean;
}

export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

function invalid(why: string): RaftError {
  return new RaftError('RAFT_INVALID_CONF_CHANGE', `Invalid raft configuration change: ${why}`);
}

export class Changer {
  constructor(
    private readonly base: ChangeResult,
    private readonly maxInflight: number,
    /** New members start probing at the leader's last index. */
    private readonly lastIndex: number,
  ) {}

  static of(tracker: ProgressTracker, lastIndex: number): Changer {
    return new Changer({ config: tracker.config, progress: tracker.progress }, tracker.maxInflight, lastIndex);
  }

  enterJoint(autoLeave: boolean, ccs: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.copy();
    if (cfg.outgoing.size > 0) throw invalid('the configuration is already joint: leave it first');
    if (cfg.incoming.size === 0) throw invalid('cannot make a configuration with no voters joint');
    cfg.outgoing = new Set(cfg.incoming);
    this.apply(cfg, prs, ccs);
    cfg.autoLeave = autoLeave;
    return this.finish(cfg, prs);
  }

  leaveJoint(): ChangeResult {
    const { cfg, prs } = this.copy();
    if (cfg.outgoing.size === 0) throw invalid('cannot leave a configuration that is not joint');
    for (const id of cfg.learnersNext) {
      cfg.learners.add(id);
      prs.get(id)!.isLearner = true;
    }
    cfg.learnersNext = new Set();
    for (const id of cfg.outgoing) {
      if (!cfg.incoming.has(id) && !cfg.learners.has(id)) prs.delete(id);
    }
    cfg.outgoing = new Set();
    cfg.autoLeave = false;
    return this.finish(cfg, prs);
  }

  /** Changes that alter at most one voter, applied without a joint state. */
  simple(ccs: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.copy();
    if (cfg.outgoing.size > 0) throw invalid('cannot apply a simple change to a joint configuration: leave it first');
    const before = cfg.incoming;
    cfg.incoming = new Set(before);
    this.apply(cfg, prs, ccs);
    let changed = 0;
    for (const id of before) if (!cfg.incoming.has(id)) changed++;
    for (const id of cfg.incoming) if (!before.has(id)) changed++;
    if (changed > 1) throw invalid('more than one voter changed without entering a joint configuration');
    return this.finish(cfg, prs);
  }

  /**
   * The configuration a ConfState describes, built by replaying it as changes: the
   * outgoing voters as simple additions, then the incoming side as a joint change.
   */
  restore(cs: ConfState): ChangeResult {
    const add = (ids: readonly bigint[], type: ConfChangeType): ConfChangeSingle[] => ids.map((nodeId) => ({ type, nodeId }));
    const outgoing = add(cs.votersOutgoing, ConfChangeType.AddNode);
    const incoming = [
      ...add(cs.votersOutgoing, ConfChangeType.RemoveNode),
      ...add(cs.voters, ConfChangeType.AddNode),
      ...add(cs.learners, ConfChangeType.AddLearnerNode),
      ...add(cs.learnersNext, ConfChangeType.AddLearnerNode),
    ];
    let state = this.base;
    const next = (): Changer => new Changer(state, this.maxInflight, this.lastIndex);
    if (outgoing.length === 0) {
      for (const cc of incoming) state = next().simple([cc]);
    } else {
      for (const cc of outgoing) state = next().simple([cc]);
      state = next().enterJoint(cs.autoLeave, incoming);
    }
    return state;
  }

  private apply(cfg: MutableConfig, prs: ProgressMap, ccs: readonly ConfChangeSingle[]): void {
    for (const cc of ccs) {
      if (cc.nodeId === 0n) continue; // etcd's convention: a change naming node 0 is a no-op
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          this.remove(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.UpdateNode:
          break;
      }
    }
    if (cfg.incoming.size === 0) throw invalid('the change removes all voters');
  }

  private makeVoter(cfg: MutableConfig, prs: ProgressMap, id: bigint): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    cfg.incoming.add(id);
  }

  /**
   * A voter demoted while it is still an outgoing voter only becomes a learner when the
   * joint state is left (learnersNext): a node may not be voter and learner at once.
   */
  private makeLearner(cfg: MutableConfig, prs: ProgressMap, id: bigint): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, true);
      return;
    }
    if (pr.isLearner) return;
    this.remove(cfg, prs, id);
    prs.set(id, pr);
    if (cfg.outgoing.has(id)) cfg.learnersNext.add(id);
    else {
      pr.isLearner = true;
      cfg.learners.add(id);
    }
  }

  private remove(cfg: MutableConfig, prs: ProgressMap, id: bigint): void {
    if (!prs.has(id)) return;
    cfg.incoming.delete(id);
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    // An outgoing voter keeps its progress until the joint state is left.
    if (!cfg.outgoing.has(id)) prs.delete(id);
  }

  private initProgress(cfg: MutableConfig, prs: ProgressMap, id: bigint, isLearner: boolean): void {
    if (isLearner) cfg.learners.add(id);
    else cfg.incoming.add(id);
    prs.set(
      id,
      new Progress({
        next: Math.max(this.lastIndex, 1),
        maxInflight: this.maxInflight,
        isLearner,
        // Counted as active so that a check-quorum round right after the addition does not depose the leader.
        recentActive: true,
      }),
    );
  }

  private copy(): { cfg: MutableConfig; prs: ProgressMap } {
    const c = this.base.config;
    const prs: ProgressMap = new Map();
    for (const [id, pr] of this.base.progress) prs.set(id, pr.clone());
    return {
      cfg: {
        incoming: new Set(c.voters.incoming),
        outgoing: new Set(c.voters.outgoing),
        learners: new Set(c.learners),
        learnersNext: new Set(c.learnersNext),
        autoLeave: c.autoLeave,
      },
      prs,
    };
  }

  private finish(cfg: MutableConfig, prs: ProgressMap): ChangeResult {
    checkInvariants(cfg, prs);
    return {
      config: {
        voters: { incoming: cfg.incoming, outgoing: cfg.outgoing },
        learners: cfg.learners,
        learnersNext: cfg.learnersNext,
        autoLeave: cfg.autoLeave,
      },
      progress: prs,
    };
  }
}

function checkInvariants(cfg: MutableConfig, prs: ProgressMap): void {
  for (const set of [cfg.incoming, cfg.outgoing, cfg.learners, cfg.learnersNext]) {
    for (const id of set) if (!prs.has(id)) throw invalid(`no progress for member ${id.toString(16)}`);
  }
  for (const id of cfg.learnersNext) {
    if (!cfg.outgoing.has(id)) throw invalid(`${id.toString(16)} is in learnersNext but not an outgoing voter`);
    if (prs.get(id)!.isLearner) throw invalid(`${id.toString(16)} is in learnersNext but already a learner`);
  }
  for (const id of cfg.learners) {
    if (cfg.outgoing.has(id) || cfg.incoming.has(id)) throw invalid(`${id.toString(16)} is both a learner and a voter`);
    if (!prs.get(id)!.isLearner) throw invalid(`${id.toString(16)} is a learner whose progress is not marked learner`);
  }
  if (cfg.outgoing.size === 0 && cfg.autoLeave) throw invalid('autoLeave is set outside a joint configuration');
}
