/**
 * A lossless, synchronous network of Members for scenario tests: messages are delivered
 * in send order until nothing moves, except where a filter drops them.
 */
import { isRaftError, MemoryStorage, type Message, type RawNode, type StateType } from '../../../src/raft/index.js';
import { Member, type MemberOptions } from './member.js';

export interface ClusterOptions extends MemberOptions {
  /** Learners of the initial configuration. */
  learners?: readonly number[];
  /**
   * Start as a real cluster does: the voters as committed ConfChange entries (RawNode.bootstrap)
   * rather than a configuration in an index-0 snapshot, so members added later learn it from the log.
   */
  bootstrap?: boolean;
}

export class Cluster {
  readonly members = new Map<bigint, Member>();
  /** Return true to drop a message. */
  drop: ((m: Message) => boolean) | undefined;
  /** Every message delivered, in order, for assertions about traffic. */
  readonly delivered: Message[] = [];
  private queue: Message[] = [];

  constructor(
    voters: readonly number[],
    private readonly options: ClusterOptions = {},
  ) {
    const confState = {
      voters: voters.map(BigInt),
      learners: (options.learners ?? []).map(BigInt),
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    for (const id of [...voters, ...(options.learners ?? [])]) {
      const m = new Member(BigInt(id), options.bootstrap === true ? new MemoryStorage() : MemoryStorage.withConfState(confState), options);
      m.start(id);
      if (options.bootstrap === true) m.raw().bootstrap(voters.map((v) => ({ id: BigInt(v) })));
      this.members.set(m.id, m);
    }
    this.stabilize();
  }

  /** Adds a member with an empty disk (it learns the configuration from the leader). */
  addEmptyMember(id: number): Member {
    const m = new Member(BigInt(id), new MemoryStorage(), this.options);
    m.start(id);
    this.members.set(m.id, m);
    return m;
  }

  member(id: number | bigint): Member {
    const m = this.members.get(BigInt(id));
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: number | bigint): RawNode {
    return this.member(id).raw();
  }

  state(id: number | bigint): StateType {
    return this.node(id).status().softState.raftState;
  }

  term(id: number | bigint): number {
    return this.node(id).status().hardState.term;
  }

  /** Delivers everything until no member has anything to do. */
  stabilize(): void {
    for (;;) {
      let moved = false;
      for (const m of this.members.values()) {
        while (m.alive && m.raw().hasReady()) {
          this.queue.push(...m.processReady());
          moved = true;
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const msg of batch) {
        moved = true;
        this.deliver(msg);
      }
      if (!moved) return;
    }
  }

  /** Steps one message into its recipient now (dropped if filtered or the recipient is down). */
  deliver(msg: Message): void {
    const to = this.members.get(msg.to);
    if (to === undefined || !to.alive || this.drop?.(msg) === true) return;
    this.delivered.push(msg);
    try {
      to.raw().step(msg);
    } catch (err) {
      // A forwarded proposal the leader cannot take is lost, and an answer from a member
      // that was removed meanwhile is ignored, as a server does.
      if (!isRaftError(err, 'RAFT_PROPOSAL_DROPPED') && !isRaftError(err, 'RAFT_STEP_PEER_NOT_FOUND')) throw err;
    }
  }

  tick(id: number | bigint, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
    this.stabilize();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const m of this.members.values()) if (m.alive) m.raw().tick();
      this.stabilize();
    }
  }

  campaign(id: number | bigint): void {
    this.node(id).campaign();
    this.stabilize();
  }

  propose(id: number | bigint, value: string): void {
    this.node(id).propose(new TextEncoder().encode(value));
    this.stabilize();
  }

  /** Cuts every link between the two groups (in both directions). */
  partition(a: readonly number[], b: readonly number[]): void {
    const sa = new Set(a.map(BigInt));
    const sb = new Set(b.map(BigInt));
    this.drop = (m) => (sa.has(m.from) && sb.has(m.to)) || (sb.has(m.from) && sa.has(m.to));
  }

  isolate(id: number): void {
    const others = [...this.members.keys()].filter((x) => x !== BigInt(id)).map(Number);
    this.partition([id], others);
  }

  heal(): void {
    this.drop = undefined;
  }

  leaders(): bigint[] {
    return [...this.members.values()]
      .filter((m) => m.alive && m.raw().status().softState.raftState === 'leader')
      .map((m) => m.id);
  }

  values(id: number | bigint): string[] {
    return this.member(id).sm.values;
  }
}
