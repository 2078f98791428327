/**
 * A deterministic, seeded simulation of a Raft cluster over a hostile network: messages
 * are dropped, delayed, reordered and duplicated, members are partitioned, crash (losing
 * whatever they had not persisted, possibly in the middle of handling a Ready) and
 * restart, logs are compacted, clients propose and read, and the membership changes.
 * The safety invariants are checked after every step; at the end the network heals and
 * the cluster must elect a leader and commit new proposals.
 */
import {
  ConfChangeType,
  isRaftError,
  MemoryStorage,
  MessageType,
  Prng,
  type ConfChange,
  type ConfState,
  type Message,
} from '../../../src/raft/index.js';
import { Invariants, SafetyViolation } from './invariants.js';
import { Member, type CrashPoint, type MemberOptions } from './member.js';

export interface SimConfig {
  readonly seed: number;
  readonly voters: number;
  readonly steps: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Propose membership changes (learners, promotions, removals, joint changes). */
  readonly membership: boolean;
}

export interface SimResult {
  readonly leaderTerms: number;
  readonly committed: number;
  readonly crashes: number;
  readonly snapshotsSent: number;
  readonly confChangesApplied: number;
  readonly readsServed: number;
}

interface InFlight {
  readonly msg: Message;
  readonly at: number;
}

const encoder = new TextEncoder();

export class SimulationFailure extends Error {
  override readonly name = 'SimulationFailure';
}

export class Simulation {
  private readonly rng: Prng;
  private readonly members = new Map<bigint, Member>();
  private readonly invariants = new Invariants();
  private network: InFlight[] = [];
  private now = 0;
  private stepNo = 0;
  /** member → partition group; empty when the network is whole. */
  private groups = new Map<bigint, number>();
  private readonly trace: string[] = [];
  private nextId: number;
  private proposals = 0;
  private readonly pendingReads = new Map<string, { member: bigint; floor: number }>();
  private readonly stats = { crashes: 0, snapshotsSent: 0, confChangesApplied: 0, readsServed: 0 };
  private readonly options: MemberOptions;
  /** Members some member saw removed; like etcd's transport, the network refuses their traffic. */
  private readonly removed = new Set<bigint>();

  constructor(private readonly config: SimConfig) {
    this.rng = new Prng(config.seed);
    // Small messages split the log into many appends, which is where flow control and
    // the commit rules get interesting.
    this.options = {
      preVote: config.preVote,
      checkQuorum: config.checkQuorum,
      maxSizePerMsg: this.rng.pick([1, 64, 4096]),
      maxInflightMsgs: this.rng.pick([1, 3, 64]),
    };
    const peers = Array.from({ length: config.voters }, (_, i) => ({ id: BigInt(i + 1) }));
    for (const p of peers) this.addMember(p.id).raw().bootstrap(peers);
    this.nextId = config.voters + 1;
  }

  private addMember(id: bigint): Member {
    const m = new Member(id, new MemoryStorage(), this.options, {
      onPersisted: (mm, rd) => this.invariants.onPersisted(mm, rd),
      onApply: (mm, e) => {
        this.invariants.onApply(mm, e);
        if (e.type !== 0) this.stats.confChangesApplied++;
      },
      onRestoreSnapshot: (mm, s) => this.invariants.onRestoreSnapshot(mm, s),
      onConfChange: (_mm, before, after) => {
        const still = new Set([...after.voters, ...after.learners, ...after.votersOutgoing]);
        for (const id of [...before.voters, ...before.learners, ...before.votersOutgoing]) {
          if (!still.has(id) && !this.removed.has(id)) {
            this.removed.add(id);
            this.log(`member ${id} removed`);
          }
        }
      },
    });
    m.start(this.rng.nextUint32());
    this.members.set(id, m);
    return m;
  }

  run(): SimResult {
    try {
      for (this.stepNo = 0; this.stepNo < this.config.steps; this.stepNo++) {
        this.chaosStep();
        this.afterStep();
        if (this.stepNo % 50 === 0) this.invariants.checkAllLogs(this.members.values());
      }
      this.checkLiveness();
      this.invariants.checkAllLogs(this.members.values());
    } catch (err) {
      if (err instanceof SimulationFailure) throw err;
      const what = err instanceof SafetyViolation ? err.message : `unexpected error: ${err instanceof Error ? err.stack : String(err)}`;
      throw new SimulationFailure(
        `raft simulation seed=${this.config.seed} (${this.describeConfig()}) failed at step ${this.stepNo}: ${what}\n` +
          `replay: STRATA_RAFT_SIM_SEED=${this.config.seed}\nlast events:\n  ${this.trace.join('\n  ')}`,
      );
    }
    return {
      leaderTerms: this.invariants.leaderTerms(),
      committed: this.invariants.highestCommitted(),
      ...this.stats,
    };
  }

  private describeConfig(): string {
    const c = this.config;
    return `${c.voters} voters, ${c.steps} steps, preVote=${c.preVote}, checkQuorum=${c.checkQuorum}, membership=${c.membership}`;
  }

  private log(event: string): void {
    this.trace.push(`#${this.stepNo} t=${this.now} ${event}`);
    if (this.trace.length > 40) this.trace.shift();
  }

  // ---- the chaos phase ----------------------------------------------------------------

  private chaosStep(): void {
    const r = this.rng.next();
    if (r < 0.3) this.tick();
    else if (r < 0.8) this.deliverSome();
    else if (r < 0.88) this.propose();
    else if (r < 0.885) this.crashOne();
    else if (r < 0.895) this.rebootOne();
    else if (r < 0.905) this.restartOne();
    else if (r < 0.91) this.repartition();
    else if (r < 0.92) this.heal();
    else if (r < 0.94) this.compactOne();
    else if (r < 0.96) this.readIndex();
    else if (r < 0.975 && this.config.membership) this.changeMembership();
    else if (r < 0.98) this.transferLeadership();
    else this.tick();
  }

  private alive(): Member[] {
    return [...this.members.values()].filter((m) => m.alive);
  }

  private tick(): void {
    this.now++;
    for (const m of this.alive()) m.raw().tick();
  }

  /** Delivers a random subset of the due messages in random order; the rest wait (reordering). */
  private deliverSome(): void {
    const due = this.network.filter((f) => f.at <= this.now);
    if (due.length === 0) {
      this.tick();
      return;
    }
    const chosen = new Set(due.filter(() => this.rng.chance(0.7)));
    const order = [...chosen];
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.intn(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    if (!this.rng.chance(0.05)) this.network = this.network.filter((f) => !chosen.has(f));
    else this.log('duplicate the batch');
    for (const f of order) this.deliver(f.msg, this.rng.chance(0.05));
  }

  private deliver(msg: Message, lose: boolean): void {
    const to = this.members.get(msg.to);
    const cut =
      (this.groups.size > 0 && this.groups.get(msg.from) !== this.groups.get(msg.to)) ||
      this.removed.has(msg.from) ||
      this.removed.has(msg.to);
    const sender = this.members.get(msg.from);
    if (lose || cut || to === undefined || !to.alive) {
      if (msg.type === MessageType.MsgSnap && sender?.alive === true) sender.raw().reportSnapshot(msg.to, 'failure');
      else if (sender?.alive === true && this.rng.chance(0.1)) sender.raw().reportUnreachable(msg.to);
      return;
    }
    this.log(`deliver ${describeMsg(msg)}`);
    try {
      to.raw().step(msg);
    } catch (err) {
      if (!isRaftError(err, 'RAFT_PROPOSAL_DROPPED') && !isRaftError(err, 'RAFT_STEP_PEER_NOT_FOUND')) throw err;
    }
    if (msg.type === MessageType.MsgSnap) {
      this.stats.snapshotsSent++;
      if (sender?.alive === true) sender.raw().reportSnapshot(msg.to, 'finish');
    }
  }

  private propose(): void {
    const alive = this.alive();
    if (alive.length === 0) return;
    const m = this.rng.pick(alive);
    const value = `v${this.proposals++}`;
    try {
      m.raw().propose(encoder.encode(value));
      this.log(`propose ${value} at ${m.id}`);
    } catch (err) {
      if (!isRaftError(err, 'RAFT_PROPOSAL_DROPPED')) throw err;
    }
  }

  private crashOne(): void {
    const alive = this.alive();
    if (alive.length === 0) return;
    const m = this.rng.pick(alive);
    this.crash(m, 'between steps');
  }

  private crash(m: Member, where: string): void {
    m.crash();
    this.invariants.onCrash(m);
    this.stats.crashes++;
    this.log(`crash ${m.id} ${where}`);
  }

  /** kill -9 and an immediate restart, as a supervisor would do. */
  private rebootOne(): void {
    const alive = this.alive();
    if (alive.length === 0) return;
    const m = this.rng.pick(alive);
    this.crash(m, 'for a reboot');
    this.restart(m);
  }

  private restart(m: Member): void {
    m.start(this.rng.nextUint32());
    this.log(`restart ${m.id} (commit ${m.raw().status().hardState.commit}, last ${m.disk.lastIndex()})`);
  }

  private restartOne(): void {
    const down = [...this.members.values()].filter((m) => !m.alive);
    if (down.length === 0) return;
    this.restart(this.rng.pick(down));
  }

  private repartition(): void {
    const ids = [...this.members.keys()];
    this.groups = new Map(ids.map((id) => [id, this.rng.intn(2)]));
    this.log(`partition ${[0, 1].map((g) => ids.filter((id) => this.groups.get(id) === g).join(',')).join(' | ')}`);
  }

  private heal(): void {
    if (this.groups.size === 0) return;
    this.groups = new Map();
    this.log('heal');
  }

  private compactOne(): void {
    const alive = this.alive();
    if (alive.length === 0) return;
    const m = this.rng.pick(alive);
    m.compact(this.rng.intn(4));
    this.log(`compact ${m.id} to ${m.disk.firstIndex()}`);
  }

  private readIndex(): void {
    const alive = this.alive();
    if (alive.length === 0) return;
    const m = this.rng.pick(alive);
    const ctx = `r${this.stepNo}`;
    // Linearizability: the read point may not be below anything committed before the request.
    const floor = Math.max(this.invariants.highestCommitted(), ...alive.map((a) => a.raw().status().hardState.commit));
    this.pendingReads.set(ctx, { member: m.id, floor });
    m.raw().readIndex(encoder.encode(ctx));
    this.log(`readIndex ${ctx} at ${m.id} (floor ${floor})`);
  }

  private leader(): Member | undefined {
    let best: Member | undefined;
    for (const m of this.alive()) {
      const st = m.raw().status();
      if (st.softState.raftState !== 'leader') continue;
      if (best === undefined || st.hardState.term > best.raw().status().hardState.term) best = m;
    }
    return best;
  }

  private transferLeadership(): void {
    const leader = this.leader();
    if (leader === undefined) return;
    const voters = leader.raw().status().config.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const to = this.rng.pick(voters);
    leader.raw().transferLeader(to);
    this.log(`transfer leadership ${leader.id} -> ${to}`);
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === undefined) return;
    const cs = leader.raw().status().config;
    if (cs.votersOutgoing.length > 0) return; // auto-leave is under way
    const cc = this.pickConfChange(cs);
    if (cc === undefined) return;
    try {
      leader.raw().proposeConfChange(cc);
      this.log(`propose conf change ${describeConfChange(cc)} at ${leader.id}`);
    } catch (err) {
      if (!isRaftError(err, 'RAFT_PROPOSAL_DROPPED')) throw err;
    }
  }

  private pickConfChange(cs: ConfState): ConfChange | undefined {
    const single = (type: ConfChangeType, nodeId: bigint): ConfChange => ({ kind: 'v1', id: 0n, type, nodeId, context: new Uint8Array(0) });
    const fresh = (): bigint | undefined => {
      if (this.nextId > this.config.voters + 3) return undefined;
      const id = BigInt(this.nextId++);
      this.addMember(id);
      return id;
    };
    const choice = this.rng.intn(5);
    if (choice === 0) {
      const id = fresh();
      return id === undefined ? undefined : single(ConfChangeType.AddLearnerNode, id);
    }
    if (choice === 1 && cs.learners.length > 0) return single(ConfChangeType.AddNode, this.rng.pick(cs.learners));
    if (choice === 2 && cs.voters.length > 3) return single(ConfChangeType.RemoveNode, this.rng.pick(cs.voters));
    if (choice === 3 && cs.learners.length > 0) return single(ConfChangeType.RemoveNode, this.rng.pick(cs.learners));
    if (choice === 4 && cs.voters.length >= 3) {
      // Replace a voter by a new one in one joint step, leaving the joint state automatically.
      const id = fresh();
      if (id === undefined) return undefined;
      return {
        kind: 'v2',
        transition: 0,
        changes: [
          { type: ConfChangeType.AddNode, nodeId: id },
          { type: ConfChangeType.RemoveNode, nodeId: this.rng.pick(cs.voters) },
        ],
        context: new Uint8Array(0),
      };
    }
    return undefined;
  }

  /** Every member handles its Ready (possibly crashing partway), then the step's checks run. */
  private afterStep(faults = true): void {
    for (let round = 0; round < 10; round++) {
      let moved = false;
      for (const m of this.members.values()) {
        if (!m.alive || !m.raw().hasReady()) continue;
        moved = true;
        const crashAt: CrashPoint | undefined = faults && this.rng.chance(0.002) ? this.rng.pick(crashPoints) : undefined;
        const sent = m.processReady(crashAt);
        if (crashAt !== undefined) {
          this.invariants.onCrash(m);
          this.stats.crashes++;
          this.log(`crash ${m.id} ${crashAt} (sent ${sent.length})`);
          if (this.rng.chance(0.5)) this.restart(m);
        }
        for (const msg of sent) this.send(msg, faults);
        this.checkReads(m);
      }
      if (!moved) break;
    }
    this.invariants.checkStep(this.members.values());
  }

  private send(msg: Message, faults: boolean): void {
    const delay = faults ? this.rng.intn(4) : 0;
    this.network.push({ msg, at: this.now + delay });
    if (faults && this.rng.chance(0.02)) this.network.push({ msg, at: this.now + this.rng.intn(8) });
  }

  private checkReads(m: Member): void {
    for (const rs of m.readStates.splice(0)) {
      const ctx = new TextDecoder().decode(rs.requestCtx);
      const req = this.pendingReads.get(ctx);
      if (req === undefined) continue;
      if (rs.index < req.floor) {
        throw new SafetyViolation(`read index ${ctx} at member ${m.id} answered ${rs.index}, but ${req.floor} was committed before the request`);
      }
      this.pendingReads.delete(ctx);
      this.stats.readsServed++;
    }
  }

  // ---- the liveness phase -------------------------------------------------------------

  /** Heal everything, restart everyone still in the configuration: a leader must emerge and commit. */
  private checkLiveness(): void {
    this.groups = new Map();
    for (const m of this.members.values()) {
      if (this.removed.has(m.id)) {
        if (m.alive) this.crash(m, '(removed from the configuration)');
      } else if (!m.alive) {
        m.start(this.rng.nextUint32());
        this.log(`restart ${m.id} for liveness`);
      }
    }
    this.log('liveness phase: network healed');
    const value = `live-${this.config.seed}`;
    let proposedAt = -1;
    for (let t = 0; t < 3000; t++) {
      this.stepNo++;
      this.tick();
      for (let i = 0; i < 1000 && this.network.length > 0; i++) {
        const batch = this.network;
        this.network = [];
        for (const f of batch) this.deliver(f.msg, false);
        this.afterStep(false);
      }
      this.afterStep(false);
      if (t % 20 === 0) for (const m of this.alive()) m.compact(2);
      const leader = this.leader();
      if (leader === undefined) continue;
      const voters = leader.raw().status().config.voters;
      if (proposedAt < 0 || t - proposedAt > 200) {
        try {
          leader.raw().propose(encoder.encode(value));
          proposedAt = t;
          this.log(`liveness proposal at leader ${leader.id}`);
        } catch (err) {
          if (!isRaftError(err, 'RAFT_PROPOSAL_DROPPED')) throw err;
        }
        continue;
      }
      const applied = voters.filter((id) => this.members.get(id)?.sm.values.includes(value) === true);
      if (applied.length === voters.length) return;
    }
    throw new SafetyViolation(`liveness: no leader committed "${value}" to every voter within 3000 ticks after healing`);
  }

}

const crashPoints: readonly CrashPoint[] = ['beforePersist', 'afterSnapshot', 'afterEntries', 'beforeSend', 'afterSend'];

function describeMsg(m: Message): string {
  const kind = Object.entries(MessageType).find(([, v]) => v === m.type)?.[0] ?? String(m.type);
  const extra = m.entries.length > 0 ? ` ents=${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}` : '';
  return `${kind} ${m.from}->${m.to} term=${m.term} idx=${m.index} logTerm=${m.logTerm} commit=${m.commit}${m.reject ? ` reject hint=${m.rejectHint}` : ''}${extra}`;
}

function describeConfChange(cc: ConfChange): string {
  const names = ['add', 'remove', 'update', 'addLearner'];
  if (cc.kind === 'v1') return `${names[cc.type]} ${cc.nodeId}`;
  return `joint[${cc.changes.map((c) => `${names[c.type]} ${c.nodeId}`).join(', ')}]`;
}
