import type { Operation } from './history.js';
import type { KvInput, KvOutput } from './kv-model.js';

/**
 * Settles writes whose outcome the client never learned, from a complete log of what was
 * written (every watch event from the first revision on, checked gap-free): each write stores
 * a value of its own, so a write whose value was written took effect (a txn's compare held),
 * and one whose value never was had no effect and leaves the history. Without this, every
 * unknown write may take effect at any later point, and a few dozen of them (a crash of every
 * member leaves that many) make the search space explode.
 */
export function settleUnknownWrites(ops: readonly Operation<KvInput, KvOutput>[], written: (value: string) => boolean): Operation<KvInput, KvOutput>[] {
  return ops.flatMap((op): Array<Operation<KvInput, KvOutput>> => {
    if (op.output !== undefined || op.input.kind === 'get') return [op];
    if (!written(op.input.value)) return [];
    return [{ ...op, output: op.input.kind === 'put' ? { kind: 'put' } : { kind: 'cas', succeeded: true } }];
  });
}
