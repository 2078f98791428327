import { EtcdError } from '../../api/etcd-errors.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../../api/etcd-types.js';

/** The request checks etcd makes before a request enters the log (etcd's v3rpc/key.go). */

export function checkRange(req: RangeRequest): void {
  if (req.key.length === 0) throw new EtcdError('emptyKey');
}

export function checkPut(req: PutRequest): void {
  if (req.key.length === 0) throw new EtcdError('emptyKey');
  if (req.ignore_value && req.value.length !== 0) throw new EtcdError('valueProvided');
  if (req.ignore_lease && req.lease !== '0') throw new EtcdError('leaseProvided');
}

export function checkDeleteRange(req: DeleteRangeRequest): void {
  if (req.key.length === 0) throw new EtcdError('emptyKey');
}

export function checkTxn(req: TxnRequest, maxTxnOps: number): void {
  if (req.compare.length > maxTxnOps || req.success.length > maxTxnOps || req.failure.length > maxTxnOps) {
    throw new EtcdError('tooManyOps');
  }
  for (const compare of req.compare) if (compare.key.length === 0) throw new EtcdError('emptyKey');
  for (const op of [...req.success, ...req.failure]) checkRequestOp(op, maxTxnOps);
  branchWrites(req.success, maxTxnOps);
  branchWrites(req.failure, maxTxnOps);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if (op.request_range) checkRange(op.request_range);
  else if (op.request_put) checkPut(op.request_put);
  else if (op.request_delete_range) checkDeleteRange(op.request_delete_range);
  else if (op.request_txn) checkTxn(op.request_txn, maxTxnOps);
}

interface Writes {
  puts: Set<string>;
  deletes: Array<{ key: Buffer; end: Buffer }>;
}

/**
 * etcd refuses a txn branch that writes one key twice: two puts of a key, or a put inside a
 * range the same branch deletes, counting nested txns (either of whose branches may run).
 */
function branchWrites(ops: RequestOp[], maxTxnOps: number): Writes {
  const writes: Writes = { puts: new Set(), deletes: [] };
  const addPut = (key: string): void => {
    if (writes.puts.has(key)) throw new EtcdError('duplicateKey');
    writes.puts.add(key);
  };
  for (const op of ops) {
    if (op.request_put) addPut(op.request_put.key.toString('latin1'));
    else if (op.request_delete_range) writes.deletes.push({ key: op.request_delete_range.key, end: op.request_delete_range.range_end });
    else if (op.request_txn) {
      const nested = [branchWrites(op.request_txn.success, maxTxnOps), branchWrites(op.request_txn.failure, maxTxnOps)];
      const nestedPuts = new Set<string>();
      for (const branch of nested) {
        for (const key of branch.puts) {
          if (writes.puts.has(key)) throw new EtcdError('duplicateKey');
          nestedPuts.add(key);
        }
        writes.deletes.push(...branch.deletes);
      }
      for (const key of nestedPuts) writes.puts.add(key);
    }
  }
  for (const key of writes.puts) {
    const bytes = Buffer.from(key, 'latin1');
    if (writes.deletes.some((d) => inRange(bytes, d.key, d.end))) throw new EtcdError('duplicateKey');
  }
  return writes;
}

function inRange(key: Buffer, start: Buffer, end: Buffer): boolean {
  if (end.length === 0) return key.equals(start);
  if (end.length === 1 && end[0] === 0) return Buffer.compare(key, start) >= 0;
  return Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0;
}
