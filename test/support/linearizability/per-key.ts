import { renumber, type Operation } from './history.js';
import type { CheckResult, Model } from './model.js';
import { checkOperations, type SearchOptions } from './wing-gong.js';

export interface KeyedResult {
  readonly key: string;
  readonly operations: number;
  readonly result: CheckResult;
}

/**
 * Operations on different keys commute, so a history is linearizable when each key's
 * sub-history is (linearizability is local): check each key alone, which keeps every search small.
 */
export function checkPerKey<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  keyOf: (input: I) => string,
  options: SearchOptions = {},
): KeyedResult[] {
  const byKey = new Map<string, Operation<I, O>[]>();
  for (const op of ops) {
    const key = keyOf(op.input);
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(op);
  }
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, list]) => ({
    key,
    operations: list.length,
    result: checkOperations(model, renumber(list), options),
  }));
}
