import type { Operation } from './history.js';
import type { KvCompare, KvInput, KvOutput } from './kv-model.js';

export interface RandomHistoryOptions {
  readonly clients: number;
  readonly operations: number;
  /** Share of writes whose outcome the client never learns (each took effect or not, at random). */
  readonly unknownRate: number;
}

export interface RandomHistory {
  readonly ops: Operation<KvInput, KvOutput>[];
  readonly valueAtRevision: ReadonlyMap<number, string>;
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/**
 * A history of one key made by an atomic register: each client runs operations one after
 * another on random intervals, each takes effect at a random instant inside its interval, so
 * the result is linearizable by construction (and intervals of different clients overlap).
 */
export function linearizableKvHistory(random: () => number, options: RandomHistoryOptions): RandomHistory {
  interface Planned {
    clientId: number;
    call: number;
    point: number;
    ret: number;
  }
  const planned: Planned[] = [];
  const clock = Array.from({ length: options.clients }, () => random());
  for (let i = 0; i < options.operations; i++) {
    const clientId = Math.floor(random() * options.clients);
    const call = clock[clientId]! + random();
    const ret = call + 0.1 + random() * 2;
    planned.push({ clientId, call, point: call + (ret - call) * (0.05 + 0.9 * random()), ret });
    clock[clientId] = ret;
  }
  let value: string | null = null;
  let revision = 0;
  const valueAtRevision = new Map<number, string>();
  const written: Array<string | null> = [null];
  const ops: Operation<KvInput, KvOutput>[] = [];
  planned.sort((a, b) => a.point - b.point);
  planned.forEach((plan, index) => {
    const fresh = `v${index}`;
    const roll = random();
    let input: KvInput;
    let output: KvOutput;
    if (roll < 0.35) {
      input = { key: 'k', kind: 'get' };
      output = { kind: 'get', value };
    } else {
      const unknown = random() < options.unknownRate;
      const applies = !unknown || random() < 0.5;
      if (roll < 0.65) {
        input = { key: 'k', kind: 'put', value: fresh };
        output = { kind: 'put' };
        if (applies) value = fresh;
      } else {
        const compare: KvCompare =
          random() < 0.5
            ? { value: random() < 0.5 ? value : pick(random, written) }
            : { modRevision: random() < 0.5 ? revision : Math.floor(random() * (revision + 1)) };
        const holds = 'modRevision' in compare ? (compare.modRevision === 0 ? null : valueAtRevision.get(compare.modRevision)!) === value : compare.value === value;
        input = { key: 'k', kind: 'cas', compare, value: fresh };
        output = holds ? { kind: 'cas', succeeded: true } : random() < 0.5 ? { kind: 'cas', succeeded: false, current: value } : { kind: 'cas', succeeded: false };
        if (holds && applies) value = fresh;
      }
      if (value === fresh) {
        valueAtRevision.set(++revision, fresh);
        written.push(fresh);
      }
      if (unknown) {
        ops.push({ id: 0, clientId: plan.clientId, input, output: undefined, call: plan.call, return: Infinity });
        return;
      }
    }
    ops.push({ id: 0, clientId: plan.clientId, input, output, call: plan.call, return: plan.ret });
  });
  ops.sort((a, b) => a.call - b.call);
  return { ops: ops.map((op, id) => ({ ...op, id })), valueAtRevision };
}

/** The same history with one known output changed: often, not always, no longer linearizable. */
export function corruptKvHistory(random: () => number, history: RandomHistory): RandomHistory {
  const known = history.ops.filter((op) => op.output !== undefined && op.input.kind !== 'put');
  if (known.length === 0) return history;
  const victim = pick(random, known);
  const values: Array<string | null> = [null, 'never-written', ...history.valueAtRevision.values()];
  const output: KvOutput =
    victim.output!.kind === 'get'
      ? { kind: 'get', value: pick(random, values.filter((v) => v !== (victim.output as { value: string | null }).value)) }
      : { kind: 'cas', succeeded: !(victim.output as { succeeded: boolean }).succeeded };
  return { ...history, ops: history.ops.map((op) => (op === victim ? { ...op, output } : op)) };
}
