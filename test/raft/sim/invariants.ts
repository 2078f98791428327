/**
 * The Raft safety properties, checked incrementally as the simulation runs (every
 * persisted Ready, every applied entry, every step) and in full at checkpoints.
 * A violation throws with the description; the simulator adds the seed and a trace.
 */
import type { Entry, Ready, Snapshot } from '../../../src/raft/index.js';
import type { Member } from './member.js';

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
}

function fail(what: string): never {
  throw new SafetyViolation(what);
}

const decoder = new TextDecoder();
const describe = (e: Entry): string => `${e.type}:${decoder.decode(e.data)}`;

export class Invariants {
  /** term → the one member that led it. */
  private readonly leaderOfTerm = new Map<number, bigint>();
  /** "index/term" → the entry's content and the term of the entry before it (log matching). */
  private readonly entryAt = new Map<string, { content: string; prevTerm: number }>();
  /** index → the committed entry (term, content). */
  private readonly committed = new Map<number, { term: number; content: string }>();
  private maxCommitted = 0;
  /** index → state machine hash after applying through index. */
  private readonly hashAt = new Map<number, number>();
  /** Per member: the highest commit index it ever persisted, and the highest it reported while up. */
  private readonly persistedCommit = new Map<bigint, number>();
  private readonly seenCommit = new Map<bigint, number>();

  /** A member persisted a Ready: log matching for its new entries, commit monotonicity, newly committed entries. */
  onPersisted(m: Member, rd: Ready): void {
    const firstIndex = m.disk.firstIndex();
    for (const e of rd.entries) {
      if (e.index < firstIndex) continue;
      this.recordEntry(m.id, e, m.disk.term(e.index - 1));
    }
    if (rd.hardState !== undefined) {
      const before = this.persistedCommit.get(m.id) ?? 0;
      const commit = rd.hardState.commit;
      if (commit < before) fail(`member ${m.id} persisted commit ${commit} below its earlier persisted commit ${before}`);
      if (commit > m.disk.lastIndex()) fail(`member ${m.id} persisted commit ${commit} past its persisted last index ${m.disk.lastIndex()}`);
      this.persistedCommit.set(m.id, commit);
      const from = Math.max(before + 1, m.disk.firstIndex());
      if (commit >= from) for (const e of m.disk.entries(from, commit + 1, Number.MAX_SAFE_INTEGER)) this.recordCommitted(m.id, e);
    }
    if (rd.softState?.raftState === 'leader') this.checkLeaderCompleteness(m);
  }

  private recordEntry(id: bigint, e: Entry, prevTerm: number): void {
    const key = `${e.index}/${e.term}`;
    const content = describe(e);
    const known = this.entryAt.get(key);
    if (known === undefined) {
      this.entryAt.set(key, { content, prevTerm });
      return;
    }
    if (known.content !== content) fail(`log matching: member ${id} has entry ${key} = ${content}, another member has ${known.content}`);
    if (known.prevTerm !== prevTerm) {
      fail(`log matching: member ${id} has entry ${key} after term ${prevTerm}, another member after term ${known.prevTerm}`);
    }
  }

  private recordCommitted(id: bigint, e: Entry): void {
    const content = describe(e);
    const known = this.committed.get(e.index);
    if (known === undefined) {
      this.committed.set(e.index, { term: e.term, content });
      this.maxCommitted = Math.max(this.maxCommitted, e.index);
    } else if (known.term !== e.term || known.content !== content) {
      fail(`committed entry ${e.index} differs: member ${id} has term ${e.term} ${content}, committed was term ${known.term} ${known.content}`);
    }
  }

  /** Leader completeness: a new leader's log holds every entry committed so far. */
  checkLeaderCompleteness(m: Member): void {
    const first = m.disk.firstIndex();
    const last = m.disk.lastIndex();
    for (let i = first; i <= this.maxCommitted; i++) {
      const want = this.committed.get(i);
      if (want === undefined) continue;
      if (i > last) fail(`leader completeness: leader ${m.id} (term ${m.raw().status().hardState.term}) lacks committed entry ${i}; its log ends at ${last}`);
      const term = m.disk.term(i);
      if (term !== want.term) fail(`leader completeness: leader ${m.id} has term ${term} at committed index ${i}, committed term ${want.term}`);
    }
  }

  /** State machine safety: no two members apply different entries (or histories) at one index. */
  onApply(m: Member, e: Entry): void {
    const want = this.committed.get(e.index);
    const content = describe(e);
    if (want !== undefined && (want.term !== e.term || want.content !== content)) {
      fail(`state machine safety: member ${m.id} applied term ${e.term} ${content} at ${e.index}, committed was term ${want.term} ${want.content}`);
    }
    if (want === undefined) this.recordCommitted(m.id, e);
    this.checkHash(m, e.index, m.sm.hash);
  }

  onRestoreSnapshot(m: Member, snap: Snapshot): void {
    this.checkHash(m, snap.metadata.index, m.sm.hash);
  }

  private checkHash(m: Member, index: number, hash: number): void {
    const known = this.hashAt.get(index);
    if (known === undefined) this.hashAt.set(index, hash);
    else if (known !== hash) fail(`state machine safety: member ${m.id} has state hash ${hash} at index ${index}, another member ${known}`);
  }

  /** After every step: one leader per term, commit indexes that never go back. */
  checkStep(members: Iterable<Member>): void {
    for (const m of members) {
      if (!m.alive) continue;
      const st = m.raw().status();
      if (st.softState.raftState === 'leader') {
        const term = st.hardState.term;
        const other = this.leaderOfTerm.get(term);
        if (other === undefined) this.leaderOfTerm.set(term, m.id);
        else if (other !== m.id) fail(`election safety: members ${other} and ${m.id} both lead term ${term}`);
      }
      const commit = st.hardState.commit;
      const floor = Math.max(this.persistedCommit.get(m.id) ?? 0, this.seenCommit.get(m.id) ?? 0);
      if (commit < floor) fail(`member ${m.id} commit index went back from ${floor} to ${commit}`);
      this.seenCommit.set(m.id, commit);
    }
  }

  /** A crash forgets what the member reported but never persisted. */
  onCrash(m: Member): void {
    this.seenCommit.set(m.id, this.persistedCommit.get(m.id) ?? 0);
  }

  /** The whole-log check: every persisted entry of every member against the global record. */
  checkAllLogs(members: Iterable<Member>): void {
    for (const m of members) {
      const log = m.log();
      let prev = m.disk.term(m.disk.firstIndex() - 1);
      for (const e of log) {
        this.recordEntry(m.id, e, prev);
        prev = e.term;
      }
    }
  }

  leaderTerms(): number {
    return this.leaderOfTerm.size;
  }

  highestCommitted(): number {
    return this.maxCommitted;
  }
}
