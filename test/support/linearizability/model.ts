import type { Operation } from './history.js';

/** A sequential specification for the linearizability checkers. */
export interface Model<S, I, O> {
  readonly init: S;
  /**
   * The state after `input` returned `output` in `state`, or undefined when it could not have
   * returned that there. With `output` undefined (unknown outcome) every step is possible.
   */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** Equal for equal states: the checkers memoize on it. */
  stateKey(state: S): string;
  describeState(state: S): string;
  describeOperation(op: Operation<I, O>): string;
}

export type CheckResult = { ok: true } | { ok: false; explanation: string } | { ok: 'unknown'; explanation: string };
