/**
 * One cluster member as a real server would run it: a RawNode, a "disk" (a MemoryStorage
 * that survives crashes) and a volatile state machine. processReady() follows the Ready
 * contract exactly: persist snapshot, entries and hard state, then send, then apply.
 * A crash discards the RawNode and the state machine; the disk keeps what was persisted.
 */
import {
  decodeConfChangeEntry,
  EntryType,
  isRaftError,
  MemoryStorage,
  RawNode,
  type ConfState,
  type Entry,
  type Message,
  type RaftConfig,
  type ReadState,
  type Ready,
  type Snapshot,
} from '../../../src/raft/index.js';

export type MemberOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'applied'>>;

/** Where a crash may interrupt the handling of a Ready. */
export type CrashPoint = 'beforePersist' | 'afterSnapshot' | 'afterEntries' | 'beforeSend' | 'afterSend';

/** Observers the simulator uses to check invariants as things happen. */
export interface MemberHooks {
  onPersisted?(member: Member, rd: Ready): void;
  onApply?(member: Member, entry: Entry): void;
  onRestoreSnapshot?(member: Member, snap: Snapshot): void;
  onConfChange?(member: Member, before: ConfState, after: ConfState): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** FNV-1a over the applied history: two members with equal hashes at one index applied the same entries. */
function mix(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class StateMachine {
  appliedIndex = 0;
  hash = 0x811c9dc5;
  values: string[] = [];

  apply(e: Entry): void {
    this.appliedIndex = e.index;
    const data = decoder.decode(e.data);
    this.hash = mix(this.hash, `${e.index}/${e.term}/${e.type}/${data};`);
    if (e.type === EntryType.Normal && data.length > 0) this.values.push(data);
  }

  encode(): Uint8Array {
    return encoder.encode(JSON.stringify({ appliedIndex: this.appliedIndex, hash: this.hash, values: this.values }));
  }

  static decode(data: Uint8Array): StateMachine {
    const sm = new StateMachine();
    if (data.length === 0) return sm;
    const parsed = JSON.parse(decoder.decode(data)) as { appliedIndex: number; hash: number; values: string[] };
    sm.appliedIndex = parsed.appliedIndex;
    sm.hash = parsed.hash;
    sm.values = parsed.values;
    return sm;
  }
}

export class Member {
  node: RawNode | undefined;
  sm = new StateMachine();
  confState: ConfState;
  readStates: ReadState[] = [];
  /** Errors from applying invalid conf changes (all members refuse the same ones). */
  refusedConfChanges = 0;

  constructor(
    readonly id: bigint,
    readonly disk: MemoryStorage,
    private readonly options: MemberOptions,
    private readonly hooks: MemberHooks = {},
  ) {
    this.confState = disk.snapshot().metadata.confState;
  }

  get alive(): boolean {
    return this.node !== undefined;
  }

  /** (Re)starts from the disk: the state machine from the stored snapshot, the rest replayed from the log. */
  start(seed?: number): RawNode {
    const snap = this.disk.snapshot();
    this.sm = StateMachine.decode(snap.data);
    this.sm.appliedIndex = snap.metadata.index;
    this.confState = snap.metadata.confState;
    this.readStates = [];
    this.node = new RawNode({
      electionTick: 10,
      heartbeatTick: 1,
      maxInflightMsgs: 256,
      ...this.options,
      ...(seed === undefined ? {} : { randomSeed: seed }),
      id: this.id,
      storage: this.disk,
      applied: snap.metadata.index,
    });
    return this.node;
  }

  crash(): void {
    this.node = undefined;
  }

  raw(): RawNode {
    if (this.node === undefined) throw new Error(`member ${this.id} is down`);
    return this.node;
  }

  /** Handles one Ready; returns the messages it sent (none when it crashed before sending). */
  processReady(crashAt?: CrashPoint): Message[] {
    const node = this.raw();
    const rd = node.ready();
    if (crashAt === 'beforePersist') return this.crashed();
    if (rd.snapshot !== undefined) this.disk.applySnapshot(rd.snapshot);
    if (crashAt === 'afterSnapshot') return this.crashed();
    this.disk.append(rd.entries);
    if (crashAt === 'afterEntries') return this.crashed();
    if (rd.hardState !== undefined) this.disk.setHardState(rd.hardState);
    this.hooks.onPersisted?.(this, rd);
    if (crashAt === 'beforeSend') return this.crashed();
    const sent = [...rd.messages];
    if (crashAt === 'afterSend') {
      this.crash();
      return sent;
    }
    if (rd.snapshot !== undefined) {
      this.sm = StateMachine.decode(rd.snapshot.data);
      this.sm.appliedIndex = rd.snapshot.metadata.index;
      this.confState = rd.snapshot.metadata.confState;
      this.hooks.onRestoreSnapshot?.(this, rd.snapshot);
    }
    for (const e of rd.committedEntries) {
      const cc = decodeConfChangeEntry(e);
      if (cc !== undefined) {
        try {
          const before = this.confState;
          this.confState = node.applyConfChange(cc);
          this.hooks.onConfChange?.(this, before, this.confState);
        } catch (err) {
          if (!isRaftError(err, 'RAFT_INVALID_CONF_CHANGE')) throw err;
          this.refusedConfChanges++;
        }
      }
      this.sm.apply(e);
      this.hooks.onApply?.(this, e);
    }
    this.readStates.push(...rd.readStates);
    node.advance(rd);
    return sent;
  }

  private crashed(): Message[] {
    this.crash();
    return [];
  }

  /** Takes a snapshot at the applied index and drops log entries before `applied - keep`. */
  compact(keep: number): void {
    const applied = this.sm.appliedIndex;
    if (applied <= this.disk.snapshot().metadata.index) return;
    this.disk.createSnapshot(applied, this.confState, this.sm.encode());
    const compactTo = applied - keep;
    if (compactTo > this.disk.firstIndex()) this.disk.compact(compactTo);
  }

  /** The persisted log, first index to last. */
  log(): Entry[] {
    const first = this.disk.firstIndex();
    const last = this.disk.lastIndex();
    return last < first ? [] : this.disk.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
  }
}
