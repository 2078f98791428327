import { EtcdError } from '../../api/etcd-errors.js';
import type {
  Compare,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../../api/etcd-types.js';
import type { StoredKeyValue } from '../../api/mvccpb.js';
import { keyRangeOf } from '../mvcc/key-range.js';
import type { WriteTxn } from '../mvcc/write-txn.js';
import { applyRange } from './range.js';
import { applyDeleteRange, applyPut } from './write-ops.js';

export type TxnResult = Omit<TxnResponse, 'header'> & { revision: number };

/**
 * etcd 3.4's applier Txn. All compares, nested ones included, are evaluated first against the
 * state before the txn (compareToPath); then the ops of the chosen path are checked (puts:
 * lease exists, ignore_* key exists; ranges: revision not future or compacted) and only then
 * executed, so a failing check changes nothing. Nested responses carry a header holding only a
 * revision, as etcd's do.
 */
export interface TxnContext {
  leaseExists(id: bigint): boolean;
  compactRevision: number;
}

export function applyTxn(txn: WriteTxn, req: TxnRequest, ctx: TxnContext): TxnResult {
  const taken = compareToPath(txn, req);
  checkPath(req, new TxnPath(taken), (op) => {
    const put = op.request_put;
    if (put) {
      if (put.ignore_value || put.ignore_lease) {
        if (txn.range(keyRangeOf(put.key, Buffer.alloc(0))).kvs.length === 0) throw new EtcdError('keyNotFound');
      }
      const lease = BigInt(put.lease);
      if (lease !== 0n && !ctx.leaseExists(lease)) throw new EtcdError('leaseNotFound');
    }
    const range = op.request_range;
    if (range) {
      const rev = Number(range.revision);
      if (rev > 0 && rev > txn.readRevision) throw new EtcdError('futureRev');
      if (rev > 0 && rev < ctx.compactRevision) throw new EtcdError('compacted');
    }
  });
  const response = execute(txn, req, new TxnPath(taken));
  return { ...response, revision: txn.readRevision };
}

/** A txn that only reads (etcd's isTxnReadonly): allowed while the NOSPACE alarm is raised. */
export function isTxnReadOnly(req: TxnRequest): boolean {
  return [...req.success, ...req.failure].every((op) => opKind(op) === 'request_range');
}

function opKind(op: RequestOp): RequestOp['request'] {
  if (op.request) return op.request;
  if (op.request_range) return 'request_range';
  if (op.request_put) return 'request_put';
  if (op.request_delete_range) return 'request_delete_range';
  if (op.request_txn) return 'request_txn';
  return undefined;
}

/**
 * Which branch each txn takes: the outer txn first, then the nested txns of the chosen branches
 * depth-first, read back in the same order by a cursor.
 */
class TxnPath {
  private index = 0;
  constructor(private readonly taken: boolean[]) {}
  next(): boolean {
    return this.taken[this.index++]!;
  }
}

function compareToPath(txn: WriteTxn, req: TxnRequest): boolean[] {
  const succeeded = req.compare.every((c) => applyCompare(txn, c));
  const path = [succeeded];
  for (const op of succeeded ? req.success : req.failure) {
    if (opKind(op) === 'request_txn' && op.request_txn) path.push(...compareToPath(txn, op.request_txn));
  }
  return path;
}

function checkPath(req: TxnRequest, path: TxnPath, check: (op: RequestOp) => void): void {
  for (const op of path.next() ? req.success : req.failure) {
    if (opKind(op) === 'request_txn' && op.request_txn) checkPath(op.request_txn, path, check);
    else check(op);
  }
}

const EMPTY_HEADER: ResponseHeader = { cluster_id: '0', member_id: '0', revision: '0', raft_term: '0' };
const header = (revision: number): ResponseHeader => ({ ...EMPTY_HEADER, revision: String(revision) });

function execute(txn: WriteTxn, req: TxnRequest, path: TxnPath): Omit<TxnResponse, 'header'> {
  const succeeded = path.next();
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? req.success : req.failure) {
    switch (opKind(op)) {
      case 'request_range': {
        const { revision, ...range } = applyRange(txn, op.request_range!);
        responses.push({ response: 'response_range', response_range: { header: header(revision), ...range } });
        break;
      }
      case 'request_put': {
        const { revision, ...put } = applyPut(txn, op.request_put!);
        responses.push({ response: 'response_put', response_put: { header: header(revision), ...put } });
        break;
      }
      case 'request_delete_range': {
        const { revision, ...del } = applyDeleteRange(txn, op.request_delete_range!);
        responses.push({ response: 'response_delete_range', response_delete_range: { header: header(revision), ...del } });
        break;
      }
      case 'request_txn': {
        const nested = execute(txn, op.request_txn!, path);
        responses.push({ response: 'response_txn', response_txn: { header: { ...EMPTY_HEADER }, ...nested } });
        break;
      }
      default:
        responses.push({});
    }
  }
  return { succeeded, responses };
}

const compareFields = {
  VERSION: 'version',
  CREATE: 'create_revision',
  MOD: 'mod_revision',
  VALUE: 'value',
  LEASE: 'lease',
} as const;

/**
 * etcd's applyCompare: every key of the range must satisfy the compare; a missing key compares
 * as an empty KeyValue (all zero) except for VALUE, which then always fails.
 */
function applyCompare(txn: WriteTxn, c: Compare): boolean {
  let kvs: StoredKeyValue[];
  try {
    kvs = txn.range(keyRangeOf(c.key, c.range_end)).kvs;
  } catch {
    return false;
  }
  if (kvs.length === 0) {
    if (c.target === 'VALUE') return false;
    return compareKv(c, { key: c.key, value: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0, lease: 0n });
  }
  return kvs.every((kv) => compareKv(c, kv));
}

function compareKv(c: Compare, kv: StoredKeyValue): boolean {
  const field = compareFields[c.target];
  // The target's value counts only when the compare's oneof holds that field; otherwise zero.
  const given = c.target_union !== undefined ? (c.target_union === field ? c[field] : undefined) : c[field];
  let result: number;
  if (c.target === 'VALUE') {
    result = Buffer.compare(kv.value, (given as Buffer | undefined) ?? Buffer.alloc(0));
  } else {
    const mine = c.target === 'VERSION' ? BigInt(kv.version) : c.target === 'CREATE' ? BigInt(kv.createRevision) : c.target === 'MOD' ? BigInt(kv.modRevision) : kv.lease;
    const theirs = given === undefined ? 0n : BigInt(given as string);
    result = mine < theirs ? -1 : mine > theirs ? 1 : 0;
  }
  switch (c.result) {
    case 'EQUAL':
      return result === 0;
    case 'NOT_EQUAL':
      return result !== 0;
    case 'GREATER':
      return result > 0;
    case 'LESS':
      return result < 0;
  }
}
