import { precedes, type Operation } from './history.js';
import type { Model } from './model.js';

/**
 * The reference the search is tested against: tries every order of the operations that keeps
 * real-time order (an operation that returned before another was called comes first), with no
 * memoization. Exponential: for histories of a handful of operations.
 */
export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): boolean {
  const remaining = new Set(ops);
  const extend = (state: S): boolean => {
    if (remaining.size === 0) return true;
    for (const op of [...remaining]) {
      if ([...remaining].some((other) => precedes(other, op))) continue;
      const next = model.step(state, op.input, op.output);
      if (next === undefined) continue;
      remaining.delete(op);
      const found = extend(next);
      remaining.add(op);
      if (found) return true;
    }
    return false;
  };
  return extend(model.init);
}
