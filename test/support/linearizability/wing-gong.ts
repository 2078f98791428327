import { precedes, type Operation } from './history.js';
import type { CheckResult, Model } from './model.js';

/** One call or return event in the doubly linked list the search lifts operations out of. */
interface Entry {
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  /** A call's return entry. */
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

export interface SearchOptions {
  /** Give up (result 'unknown') after this many search steps; default 5 million. */
  readonly maxSteps?: number;
}

function eventList(ops: readonly Operation<unknown, unknown>[]): Entry {
  const entries: Entry[] = [];
  for (const op of ops) {
    const ret: Entry = { op: op.id, isCall: false, time: op.return, match: undefined, prev: undefined, next: undefined };
    entries.push({ op: op.id, isCall: true, time: op.call, match: ret, prev: undefined, next: undefined }, ret);
  }
  // On equal times a call goes first: the two operations overlap, so either order is allowed.
  entries.sort((a, b) => a.time - b.time || Number(a.isCall ? 0 : 1) - Number(b.isCall ? 0 : 1));
  const head: Entry = { op: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const entry of entries) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

/** Takes a call and its return out of the list. */
function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Puts them back where they were (the return first: lifting undone in reverse). */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/**
 * Wing & Gong's search as Lowe improved it: walk the events in time order; at a call, try to
 * linearize that operation now (the model accepts its output) and restart from the first
 * event; at a return whose operation is not linearized yet, backtrack. Each (set of
 * linearized operations, model state) is explored once, which keeps it tractable. `ops` must
 * be numbered 0…n-1 (see renumber()).
 */
export function checkOperations<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], options: SearchOptions = {}): CheckResult {
  ops.forEach((op, index) => {
    if (op.id !== index) throw new Error(`checkOperations: operation ids must be 0…n-1 in order (see renumber()), found ${op.id} at ${index}`);
  });
  const maxSteps = options.maxSteps ?? 5_000_000;
  const head = eventList(ops);
  const seen = new Set<string>();
  const stack: Array<{ call: Entry; state: S }> = [];
  let state = model.init;
  let linearized = 0n;
  let deepest: number[] = [];
  let entry = head.next;
  for (let steps = 0; head.next !== undefined; steps++) {
    if (steps >= maxSteps) {
      return { ok: 'unknown', explanation: `gave up after ${maxSteps} search steps over ${ops.length} operations` };
    }
    if (!entry) throw new Error('checkOperations: ran off the event list');
    if (entry.isCall) {
      const op = ops[entry.op]!;
      const next = model.step(state, op.input, op.output);
      if (next !== undefined) {
        const withOp = linearized | (1n << BigInt(op.id));
        const key = `${withOp.toString(36)}|${model.stateKey(next)}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ call: entry, state });
          if (stack.length > deepest.length) deepest = stack.map((s) => s.call.op);
          state = next;
          linearized = withOp;
          lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
    } else {
      const top = stack.pop();
      if (!top) return { ok: false, explanation: explainFailure(model, ops, deepest) };
      state = top.state;
      linearized &= ~(1n << BigInt(top.call.op));
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { ok: true };
}

/**
 * Names the longest linearizable prefix the search found and, for each operation that could
 * come next there, why it cannot: the output it returned is impossible in that state.
 */
export function explainFailure<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], prefix: readonly number[]): string {
  let state = model.init;
  for (const id of prefix) state = model.step(state, ops[id]!.input, ops[id]!.output) as S;
  const done = new Set(prefix);
  const rest = ops.filter((op) => !done.has(op.id));
  const candidates = rest.filter((op) => !rest.some((other) => precedes(other, op)));
  const shown = prefix.slice(-5).map((id) => `  ${model.describeOperation(ops[id]!)}`);
  const why = candidates.map((op) => {
    const reason = model.step(state, op.input, op.output) === undefined ? 'impossible in that state' : 'leads only to dead ends';
    return `  ${model.describeOperation(op)}: ${reason}`;
  });
  return [
    `not linearizable: at most ${prefix.length} of ${ops.length} operations linearize, leaving state ${model.describeState(state)}`,
    ...(shown.length > 0 ? [`the last of them:`, ...shown] : []),
    `none of the operations that may come next fits:`,
    ...why,
  ].join('\n');
}
