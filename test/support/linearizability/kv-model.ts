import type { Model } from './model.js';

/**
 * One etcd key as a register. Every write stores a value no other write stores, so a value
 * names the write (and so the revision) that made it: a compare on mod_revision R holds
 * exactly when the key holds the value written at R, and mod_revision 0 means "absent".
 */
export type KvInput =
  | { readonly key: string; readonly kind: 'put'; readonly value: string }
  | { readonly key: string; readonly kind: 'get' }
  | { readonly key: string; readonly kind: 'cas'; readonly compare: KvCompare; readonly value: string };

export type KvCompare = { readonly value: string | null } | { readonly modRevision: number };

export type KvOutput =
  | { readonly kind: 'put' }
  | { readonly kind: 'get'; readonly value: string | null }
  /** `current` is what the failure branch read, when it read. */
  | { readonly kind: 'cas'; readonly succeeded: boolean; readonly current?: string | null };

/** The key's value; null when absent. */
export type KvState = string | null;

const show = (value: string | null): string => (value === null ? '(absent)' : JSON.stringify(value));

function describeCompare(compare: KvCompare): string {
  return 'modRevision' in compare ? `mod_revision = ${compare.modRevision}` : `value = ${show(compare.value)}`;
}

/**
 * `valueAtRevision(R)` is the value the write at revision R stored, as observed by some
 * client (a read's mod_revision, a write's header revision); a compare names only revisions
 * a client saw.
 */
export function kvModel(valueAtRevision: (revision: number) => string | undefined): Model<KvState, KvInput, KvOutput> {
  const expected = (compare: KvCompare): string | null => {
    if (!('modRevision' in compare)) return compare.value;
    if (compare.modRevision === 0) return null;
    const value = valueAtRevision(compare.modRevision);
    if (value === undefined) throw new Error(`kvModel: no write is known at revision ${compare.modRevision}; record every observed revision`);
    return value;
  };
  return {
    init: null,
    step(state, input, output) {
      if (output !== undefined && output.kind !== input.kind) throw new Error(`kvModel: a ${input.kind} returned a ${output.kind} output`);
      switch (input.kind) {
        case 'put':
          return input.value;
        case 'get':
          return output === undefined || (output.kind === 'get' && output.value === state) ? state : undefined;
        case 'cas': {
          const holds = state === expected(input.compare);
          if (output === undefined) return holds ? input.value : state;
          if (output.kind !== 'cas' || output.succeeded !== holds) return undefined;
          if (holds) return input.value;
          return output.current === undefined || output.current === state ? state : undefined;
        }
      }
    },
    stateKey: (state) => (state === null ? '' : `=${state}`),
    describeState: show,
    describeOperation(op) {
      const { input, output } = op;
      const when = `[call ${op.call}, return ${op.return === Infinity ? '∞' : op.return}]`;
      const head = `#${op.id} client ${op.clientId}`;
      const result = (text: string): string => (output === undefined ? 'outcome unknown' : text);
      switch (input.kind) {
        case 'put':
          return `${head} put ${input.key} ${show(input.value)} -> ${result('ok')} ${when}`;
        case 'get':
          return `${head} get ${input.key} -> ${result(output?.kind === 'get' ? show(output.value) : '?')} ${when}`;
        case 'cas': {
          const outcome =
            output?.kind === 'cas'
              ? output.succeeded
                ? 'succeeded'
                : `failed${output.current === undefined ? '' : ` reading ${show(output.current)}`}`
              : '?';
          return `${head} txn ${input.key} if ${describeCompare(input.compare)} then put ${show(input.value)} -> ${result(outcome)} ${when}`;
        }
      }
    },
  };
}
