// Request builders and a temp-dir applier shared by the storage tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../../../src/api/etcd-types.js';
import type { InternalRequest } from '../../../src/server/apply/internal-request.js';
import { KvApplier, type ApplyResult, type KvApplierOptions } from '../../../src/server/apply/kv-applier.js';
import { silentLogger } from '../../../src/util/log.js';

export { seededRandom } from '../../support/random.js';

export const b = (s: string): Buffer => Buffer.from(s);

export function putReq(key: string, value: string, extra: Partial<PutRequest> = {}): PutRequest {
  return { key: b(key), value: b(value), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false, ...extra };
}

export function delReq(key: string, rangeEnd = '', prevKv = false): DeleteRangeRequest {
  return { key: b(key), range_end: b(rangeEnd), prev_kv: prevKv };
}

export function rangeReq(key: string, rangeEnd = '', extra: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: b(key),
    range_end: b(rangeEnd),
    limit: '0',
    revision: '0',
    sort_order: 'NONE',
    sort_target: 'KEY',
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: '0',
    max_mod_revision: '0',
    min_create_revision: '0',
    max_create_revision: '0',
    ...extra,
  };
}

const unionField = { VERSION: 'version', CREATE: 'create_revision', MOD: 'mod_revision', VALUE: 'value', LEASE: 'lease' } as const;

export function cmp(key: string, target: CompareTarget, result: CompareResult, value: string | number, rangeEnd = ''): Compare {
  const field = unionField[target];
  return {
    key: b(key),
    range_end: b(rangeEnd),
    target,
    result,
    target_union: field,
    [field]: target === 'VALUE' ? b(String(value)) : String(value),
  };
}

export const op = {
  put: (r: PutRequest): RequestOp => ({ request: 'request_put', request_put: r }),
  del: (r: DeleteRangeRequest): RequestOp => ({ request: 'request_delete_range', request_delete_range: r }),
  range: (r: RangeRequest): RequestOp => ({ request: 'request_range', request_range: r }),
  txn: (r: TxnRequest): RequestOp => ({ request: 'request_txn', request_txn: r }),
};

export function txnReq(compare: Compare[], success: RequestOp[], failure: RequestOp[] = []): TxnRequest {
  return { compare, success, failure };
}

export const rq = {
  put: (key: string, value: string, extra: Partial<PutRequest> = {}): InternalRequest => ({ kind: 'put', put: putReq(key, value, extra) }),
  del: (key: string, rangeEnd = '', prevKv = false): InternalRequest => ({ kind: 'deleteRange', deleteRange: delReq(key, rangeEnd, prevKv) }),
  txn: (t: TxnRequest): InternalRequest => ({ kind: 'txn', txn: t }),
  compact: (revision: number, physical = true): InternalRequest => ({ kind: 'compaction', compaction: { revision: String(revision), physical } }),
  grant: (id: bigint, ttl: number): InternalRequest => ({ kind: 'leaseGrant', id, ttl }),
  revoke: (id: bigint): InternalRequest => ({ kind: 'leaseRevoke', id }),
};

/** A temp data dir and an applier over it that feeds requests with increasing log indexes. */
export class Harness {
  readonly dir: string;
  applier: KvApplier;
  index = 0;

  constructor(private readonly options: Partial<KvApplierOptions> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'strata-storage-'));
    this.applier = this.open();
  }

  open(extra: Partial<KvApplierOptions> = {}): KvApplier {
    return KvApplier.open({ dataDir: this.dir, logger: silentLogger, ...this.options, ...extra });
  }

  reopen(extra: Partial<KvApplierOptions> = {}): KvApplier {
    this.applier.close();
    this.applier = this.open(extra);
    return this.applier;
  }

  apply(...requests: InternalRequest[]): ApplyResult[] {
    return this.applier.applyBatch(requests.map((request) => ({ index: ++this.index, request })));
  }

  one(request: InternalRequest): ApplyResult {
    return this.apply(request)[0]!;
  }

  /** Values of a range as "key=value@mod/create/version" strings, for compact assertions. */
  get(key: string, rangeEnd = '', extra: Partial<RangeRequest> = {}): string[] {
    return this.applier
      .range(rangeReq(key, rangeEnd, extra))
      .kvs.map((kv) => `${kv.key.toString()}=${kv.value.toString()}@${kv.mod_revision}/${kv.create_revision}/${kv.version}`);
  }

  close(): void {
    this.applier.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs scheduled background steps (compaction, watch catch-up) by hand. */
export class ManualScheduler {
  private queue: Array<() => void> = [];
  readonly schedule = (step: () => void): void => {
    this.queue.push(step);
  };
  get pending(): number {
    return this.queue.length;
  }
  /** Runs up to `n` steps (each may schedule more); returns how many ran. */
  run(n = Infinity): number {
    let ran = 0;
    while (ran < n && this.queue.length > 0) {
      this.queue.shift()!();
      ran++;
    }
    return ran;
  }
}
