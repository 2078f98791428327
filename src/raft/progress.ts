/**
 * The leader's view of one follower: how far its log matches (match), what to send next
 * (next), and the flow-control state.
 *
 * - probe: we do not know where the follower's log ends; send one append per heartbeat
 *   interval and wait for the answer.
 * - replicate: the follower accepts appends; send optimistically, at most maxInflight
 *   messages outstanding.
 * - snapshot: the follower needs a snapshot; send nothing until it is reported.
 */
import { invariant } from './errors.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A ring of the last index of each in-flight append, freed as acknowledgements arrive. */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  count = 0;

  constructor(readonly size: number) {
    this.buffer = new Array<number>(size).fill(0);
  }

  add(index: number): void {
    invariant(!this.full(), () => 'cannot add into a full inflights window');
    this.buffer[(this.start + this.count) % this.size] = index;
    this.count++;
  }

  /** Frees every in-flight message up to and including index `to`. */
  freeLE(to: number): void {
    while (this.count > 0 && this.buffer[this.start]! <= to) {
      this.start = (this.start + 1) % this.size;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.buffer[this.start]!);
  }

  full(): boolean {
    return this.count === this.size;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** The snapshot index being sent while in the snapshot state. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive: boolean;
  /** In probe state: an append is outstanding, wait for its answer (or the next heartbeat). */
  probeSent = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(fields: { next: number; match?: number; maxInflight: number; isLearner: boolean; recentActive: boolean }) {
    this.next = fields.next;
    this.match = fields.match ?? 0;
    this.inflights = new Inflights(fields.maxInflight);
    this.isLearner = fields.isLearner;
    this.recentActive = fields.recentActive;
  }

  /** A copy to change speculatively; the in-flight window is shared (only one of the two survives). */
  clone(): Progress {
    return Object.assign(Object.create(Progress.prototype) as Progress, this);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it (the follower has at least that much).
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An append of entries up to `last` was sent: in replicate state, pipeline past it. */
  sentEntries(last: number | undefined): void {
    if (this.state === 'replicate') {
      if (last !== undefined) {
        this.next = last + 1;
        this.inflights.add(last);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** The follower acknowledged index n; false when that is old news (a stale or duplicated answer). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected an append at index `rejected`; matchHint is our guess of its
   * last matching index. Returns false when the rejection is stale and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the latest probe (at next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
