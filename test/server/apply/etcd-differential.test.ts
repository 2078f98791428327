// One seeded random sequence of writes applied to Debian's etcd 3.4 (over gRPC) and to
// KvApplier directly; Range results at several revisions and HashKV must be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../../../src/api/etcd-proto.js';
import type { KeyValue, RangeRequest, RequestOp, TxnRequest } from '../../../src/api/etcd-types.js';
import { EtcdError } from '../../../src/api/etcd-errors.js';
import type { InternalRequest } from '../../../src/server/apply/internal-request.js';
import { requireBinary, startEtcd as startEtcdProcess } from '../../support/index.js';
import { Harness, cmp, delReq, op, putReq, rangeReq, seededRandom, txnReq } from './fixtures.js';

type Unary = (method: string, request: unknown) => Promise<Record<string, unknown>>;

/**
 * etcd (gogoproto) decodes a bytes field sent with length 0 as non-nil, and a non-nil empty
 * range_end means "every key >= key". Go clients never send empty bytes; neither do we here.
 */
function withoutEmptyBytes(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withoutEmptyBytes);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (Buffer.isBuffer(v) && v.length === 0) continue;
    out[k] = withoutEmptyBytes(v);
  }
  return out;
}

function unaryCaller(client: grpc.Client): Unary {
  return (method, request) =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Function>)[method]!.bind(client);
      fn(withoutEmptyBytes(request), { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: Record<string, unknown>) =>
        err ? reject(err) : resolve(res),
      );
    });
}

interface Etcd {
  kv: Unary;
  lease: Unary;
  maintenance: Unary;
  stop(): Promise<void>;
}

/** Debian's etcd on free loopback ports, with gRPC clients for the services the test uses. */
async function startEtcd(): Promise<Etcd> {
  const etcd = await startEtcdProcess({ name: 'diff' });
  const services = etcdServices();
  const creds = grpc.credentials.createInsecure();
  const clients = [new services.KV(etcd.endpoint, creds), new services.Lease(etcd.endpoint, creds), new services.Maintenance(etcd.endpoint, creds)];
  const [kv, lease, maintenance] = clients.map(unaryCaller) as [Unary, Unary, Unary];
  return {
    kv,
    lease,
    maintenance,
    stop: async () => {
      for (const c of clients) c.close();
      await etcd.stop();
    },
  };
}

const KEYS = ['a', 'a/1', 'a/2', 'a/3', 'b', 'b/1', 'b/2', 'c', 'c/x', 'd', 'e\u00ff', 'f'];

/** The fields of a KeyValue that must agree. */
const kvText = (kv: KeyValue): string =>
  `${kv.key.toString('hex')}=${kv.value.toString('hex')} c${kv.create_revision} m${kv.mod_revision} v${kv.version} l${kv.lease}`;

function rangeText(r: { kvs: KeyValue[]; more: boolean; count: string }, ordered: boolean): string {
  const kvs = r.kvs.map(kvText);
  return `${JSON.stringify(ordered ? kvs : [...kvs].sort())} more=${r.more} count=${r.count}`;
}

test('differential: a seeded random history gives identical ranges and HashKV on etcd 3.4 and KvApplier', async (t) => {
  if (!requireBinary(t, 'etcd')) return;
  const seed = Number(process.env['STRATA_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const where = `(seed ${seed}; rerun with STRATA_SEED=${seed})`;
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const etcd = await startEtcd();
  const h = new Harness({ minLeaseTtl: 5 });
  try {
    const leases: bigint[] = [];
    let compactRev = 0;
    let current = 1; // etcd starts at revision 1; so does the applier's first write (revision 2)

    const randomPut = (): ReturnType<typeof putReq> => {
      const lease = leases.length > 0 && random() < 0.2 ? pick(leases).toString() : '0';
      return putReq(pick(KEYS), `v${Math.floor(random() * 1000)}`, { lease, prev_kv: random() < 0.3 });
    };
    const randomDelete = (): ReturnType<typeof delReq> => {
      const r = random();
      if (r < 0.5) return delReq(pick(KEYS), '', random() < 0.5);
      if (r < 0.8) return delReq('a/', 'a0', true);
      return delReq(pick(KEYS), pick(KEYS), random() < 0.5);
    };
    const randomCompare = () => {
      const target = pick(['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'] as const);
      const result = pick(['EQUAL', 'NOT_EQUAL', 'GREATER', 'LESS'] as const);
      const value = target === 'VALUE' ? `v${Math.floor(random() * 1000)}` : target === 'LEASE' ? 0 : Math.floor(random() * current);
      const ranged = random() < 0.2;
      return cmp(ranged ? 'a/' : pick(KEYS), target, result, value, ranged ? 'a0' : '');
    };
    // Branches write distinct keys so etcd's duplicate-key check never fires.
    const randomBranch = (depth: number): RequestOp[] => {
      const used = new Set<string>();
      const ops: RequestOp[] = [];
      const n = 1 + Math.floor(random() * 3);
      for (let i = 0; i < n; i++) {
        const r = random();
        if (r < 0.45) {
          const put = randomPut();
          if (used.has(put.key.toString()) || put.key.toString().startsWith('a/')) continue;
          used.add(put.key.toString());
          ops.push(op.put(put));
        } else if (r < 0.65) {
          ops.push(op.range(rangeReq(pick(KEYS), random() < 0.5 ? '' : '\0', { limit: String(Math.floor(random() * 3)) })));
        } else if (r < 0.8) {
          const key = pick(KEYS);
          if (used.has(key) || key.startsWith('a/')) continue;
          used.add(key);
          ops.push(op.del(delReq(key, '', random() < 0.5)));
        } else if (depth < 2) {
          // Nested txns only read and touch the a/ keys, which the outer branch leaves alone.
          const nested: TxnRequest = txnReq([randomCompare()], [op.range(rangeReq('a/', 'a0'))], [op.put(putReq('a/3', 'nested'))]);
          if (!ops.some((o) => o.request_txn)) ops.push(op.txn(nested));
        }
      }
      return ops;
    };

    const applyBoth = async (request: InternalRequest, etcdCall: () => Promise<Record<string, unknown>>, label: string) => {
      const mine = h.one(request);
      let theirs: Record<string, unknown> | undefined;
      let theirError: string | undefined;
      try {
        theirs = await etcdCall();
      } catch (err) {
        theirError = (err as grpc.ServiceError).details;
      }
      assert.equal(mine.error?.message, theirError, `${label}: error differs ${where}`);
      if (theirs?.['header']) {
        const header = theirs['header'] as { revision: string };
        assert.equal(String(mine.revision), header.revision, `${label}: header revision differs ${where}`);
        current = Number(header.revision);
      }
      return { mine, theirs };
    };

    const steps = 250;
    for (let step = 0; step < steps; step++) {
      const r = random();
      if (r < 0.45) {
        const put = randomPut();
        const { mine, theirs } = await applyBoth({ kind: 'put', put }, () => etcd.kv('Put', put), `step ${step} put`);
        if (theirs && mine.response?.kind === 'put') {
          const prev = (theirs['prev_kv'] as KeyValue | null) ?? null;
          assert.equal(mine.response.put.prev_kv ? kvText(mine.response.put.prev_kv) : null, prev ? kvText(prev) : null, `step ${step} prev_kv ${where}`);
        }
      } else if (r < 0.6) {
        const del = randomDelete();
        const { mine, theirs } = await applyBoth({ kind: 'deleteRange', deleteRange: del }, () => etcd.kv('DeleteRange', del), `step ${step} delete`);
        if (theirs && mine.response?.kind === 'deleteRange') {
          assert.equal(mine.response.deleteRange.deleted, theirs['deleted'], `step ${step} deleted ${where}`);
          assert.deepEqual(
            mine.response.deleteRange.prev_kvs.map(kvText),
            (theirs['prev_kvs'] as KeyValue[]).map(kvText),
            `step ${step} prev_kvs ${where}`,
          );
        }
      } else if (r < 0.85) {
        const txn = txnReq(
          Array.from({ length: Math.floor(random() * 3) }, randomCompare),
          randomBranch(0),
          randomBranch(0),
        );
        const { mine, theirs } = await applyBoth({ kind: 'txn', txn }, () => etcd.kv('Txn', txn), `step ${step} txn`);
        if (theirs && mine.response?.kind === 'txn') {
          assert.equal(mine.response.txn.succeeded, theirs['succeeded'], `step ${step} txn succeeded ${where}`);
          const summarize = (responses: unknown): unknown =>
            JSON.parse(
              JSON.stringify(responses, (key, value: unknown) => {
                if (key === 'header' || key === 'response') return undefined;
                if (value && typeof value === 'object' && 'type' in value && (value as { type: string }).type === 'Buffer') {
                  return Buffer.from((value as unknown as { data: number[] }).data).toString('hex');
                }
                return value;
              }),
            );
          assert.deepEqual(summarize(mine.response.txn.responses), summarize(theirs['responses']), `step ${step} txn responses ${where}`);
        }
      } else if (r < 0.91) {
        const ttl = 600 + Math.floor(random() * 100);
        const granted = await etcd.lease('LeaseGrant', { ID: '0', TTL: String(ttl) });
        const id = BigInt(granted['ID'] as string);
        const mine = h.one({ kind: 'leaseGrant', id, ttl });
        assert.equal(mine.response?.kind === 'leaseGrant' ? String(mine.response.ttl) : undefined, granted['TTL'], `step ${step} lease TTL ${where}`);
        leases.push(id);
      } else if (r < 0.95 && leases.length > 0) {
        const id = leases.splice(Math.floor(random() * leases.length), 1)[0]!;
        await applyBoth({ kind: 'leaseRevoke', id }, () => etcd.lease('LeaseRevoke', { ID: id.toString() }), `step ${step} revoke`);
      } else if (current > compactRev + 1) {
        const rev = compactRev + 1 + Math.floor(random() * (current - compactRev));
        const { mine } = await applyBoth(
          { kind: 'compaction', compaction: { revision: String(rev), physical: true } },
          () => etcd.kv('Compact', { revision: String(rev), physical: true }),
          `step ${step} compact ${rev}`,
        );
        await mine.done;
        compactRev = rev;
      }
    }
    // A compaction below the compact revision fails the same way on both.
    if (compactRev > 1) {
      await applyBoth(
        { kind: 'compaction', compaction: { revision: String(compactRev - 1), physical: false } },
        () => etcd.kv('Compact', { revision: String(compactRev - 1), physical: false }),
        'stale compaction',
      );
    }

    const revisions = new Set([0, compactRev, compactRev + 1, current, Math.max(1, current - 1)]);
    for (let i = 0; i < 6; i++) revisions.add(compactRev + Math.floor(random() * (current - compactRev + 1)));
    const ranges: Array<Partial<RangeRequest> & { key: Buffer; range_end: Buffer }> = [
      rangeReq('\0', '\0'),
      rangeReq('a/', 'a0'),
      rangeReq('b'),
      rangeReq('a', 'c', { limit: '2' }),
      rangeReq('\0', '\0', { count_only: true }),
      rangeReq('\0', '\0', { keys_only: true, limit: '4' }),
      rangeReq('\0', '\0', { sort_order: 'DESCEND', sort_target: 'KEY', limit: '3' }),
      rangeReq('\0', '\0', { sort_order: 'ASCEND', sort_target: 'VALUE' }),
      rangeReq('\0', '\0', { sort_order: 'NONE', sort_target: 'MOD' }),
      rangeReq('\0', '\0', { sort_order: 'DESCEND', sort_target: 'CREATE' }),
      rangeReq('\0', '\0', { min_mod_revision: String(Math.floor(current / 2)), limit: '3' }),
      rangeReq('\0', '\0', { max_create_revision: String(Math.floor(current / 2)) }),
      rangeReq('\0', '\0', { min_create_revision: '3', max_mod_revision: String(current - 2), sort_target: 'VERSION', sort_order: 'DESCEND' }),
    ];
    for (const rev of revisions) {
      for (const base of ranges) {
        const req = { ...rangeReq(''), ...base, revision: String(rev) } as RangeRequest;
        // Ties under a non-key sort have no defined order in etcd (those ranges carry no limit): compare as sets.
        const ordered = req.sort_target === 'KEY';
        let mine: string;
        try {
          mine = rangeText(h.applier.range(req), ordered);
        } catch (err) {
          mine = `error ${(err as EtcdError).message}`;
        }
        let theirs: string;
        try {
          theirs = rangeText((await etcd.kv('Range', req)) as never, ordered);
        } catch (err) {
          theirs = `error ${(err as grpc.ServiceError).details}`;
        }
        assert.equal(mine, theirs, `Range ${JSON.stringify({ ...req, key: req.key.toString('hex'), range_end: req.range_end.toString('hex') })} ${where}`);
      }
      let mineHash: string;
      try {
        const r = h.applier.hashKV(rev);
        mineHash = `${r.hash} compact=${r.compactRevision}`;
      } catch (err) {
        mineHash = `error ${(err as Error).message}`;
      }
      let theirHash: string;
      try {
        const r = await etcd.maintenance('HashKV', { revision: String(rev) });
        theirHash = `${String(r['hash'])} compact=${String(r['compact_revision'])}`;
      } catch (err) {
        theirHash = `error ${(err as grpc.ServiceError).details}`;
      }
      assert.equal(mineHash, theirHash, `HashKV at ${rev} (current ${current}, compacted ${compactRev}) ${where}`);
    }
    // etcd's quirk: with no key alive at the hash revision, revisions at or below the compact
    // revision are hashed unfiltered. Delete everything and compare again, then compact it away.
    const compareHash = async (label: string) => {
      const mine = h.applier.hashKV(0);
      const theirs = await etcd.maintenance('HashKV', { revision: '0' });
      assert.equal(`${mine.hash} ${mine.compactRevision}`, `${String(theirs['hash'])} ${String(theirs['compact_revision'])}`, `${label} ${where}`);
    };
    const wipe = { kind: 'deleteRange', deleteRange: delReq('\0', '\0') } as const;
    await applyBoth(wipe, () => etcd.kv('DeleteRange', wipe.deleteRange), 'delete everything');
    await compareHash('HashKV with no key alive');
    const { mine: last } = await applyBoth(
      { kind: 'compaction', compaction: { revision: String(current), physical: true } },
      () => etcd.kv('Compact', { revision: String(current), physical: true }),
      'compact everything',
    );
    await last.done;
    await compareHash('HashKV after compacting everything');
  } finally {
    await etcd.stop();
    h.close();
  }
});
