/**
 * A concurrent history: each operation has an invoke (call) and a return on one logical clock
 * that orders every event as it happened. An operation whose outcome is unknown (timeout,
 * connection lost) may or may not have taken effect: its return is at +Infinity and its output
 * is undefined, so a checker may place it anywhere after its call, or in effect nowhere.
 */
export interface Operation<I, O> {
  /** Dense index of the operation in its history (0, 1, 2, …). */
  readonly id: number;
  readonly clientId: number;
  readonly input: I;
  /** undefined when the outcome is unknown. */
  readonly output: O | undefined;
  readonly call: number;
  readonly return: number;
}

/** What a client does with an operation it invoked. */
export interface PendingOperation<O> {
  /** The operation returned `output`. */
  ok(output: O): void;
  /** The outcome is unknown: it may have taken effect or not. */
  unknown(): void;
  /** It certainly had no effect (e.g. a read that failed): it leaves the history. */
  failed(): void;
}

/** Records invoke/return events of many concurrent clients on one logical clock. */
export class HistoryRecorder<I, O> {
  private clock = 0;
  private pending = 0;
  private readonly recorded: Array<Omit<Operation<I, O>, 'id'>> = [];

  invoke(clientId: number, input: I): PendingOperation<O> {
    const call = ++this.clock;
    this.pending++;
    let settled = false;
    const settle = (op: Omit<Operation<I, O>, 'id'> | undefined): void => {
      if (settled) throw new Error(`operation of client ${clientId} called at ${call} settled twice`);
      settled = true;
      this.pending--;
      if (op) this.recorded.push(op);
    };
    return {
      ok: (output) => settle({ clientId, input, output, call, return: ++this.clock }),
      unknown: () => settle({ clientId, input, output: undefined, call, return: Infinity }),
      failed: () => settle(undefined),
    };
  }

  /** Operations invoked but not yet settled. */
  get pendingCount(): number {
    return this.pending;
  }

  /** The history so far, ids in call order. */
  operations(): Operation<I, O>[] {
    return [...this.recorded].sort((a, b) => a.call - b.call).map((op, id) => ({ ...op, id }));
  }
}

/** Renumbers a subset of a history densely (ids index the checkers' bitsets). */
export function renumber<I, O>(ops: readonly Operation<I, O>[]): Operation<I, O>[] {
  return ops.map((op, id) => ({ ...op, id }));
}

/** `a` returned before `b` was called: every linearization must put `a` first. */
export function precedes(a: Operation<unknown, unknown>, b: Operation<unknown, unknown>): boolean {
  return a.return < b.call;
}
