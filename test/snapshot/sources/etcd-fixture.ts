// The committed real-etcd snapshot (fixtures/etcd/make-fixture.sh) and helpers to compare an
// opened image with what etcd reported.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredKeyValue } from '../../../src/api/mvccpb.js';
import type { EtcdSnapshot } from '../../../src/snapshot/sources/etcd-snapshot.js';
import { repoRoot } from '../../support/index.js';

export const fixturePath = join(repoRoot, 'fixtures', 'etcd', 'snapshot.db');

export interface FixtureExpectation {
  revision: number;
  compactRevision: number;
  keyCount: number;
  hashKV: { revision: number; hash: number; compactRevision: number }[];
  clusterId: string;
  members: { id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }[];
  leases: { id: string; grantedTTL: number; keys: string[] }[];
  etcdctlSnapshotStatus: { hash: number; revision: number; totalKey: number; totalSize: number };
}

export function fixtureExpectation(): FixtureExpectation {
  return JSON.parse(readFileSync(join(repoRoot, 'fixtures', 'etcd', 'snapshot.expected.json'), 'utf8')) as FixtureExpectation;
}

/** The keys alive at the image's revision with their latest KeyValue, by replaying its revisions. */
export async function liveKeys(snapshot: EtcdSnapshot): Promise<Map<string, StoredKeyValue>> {
  const live = new Map<string, StoredKeyValue>();
  for await (const r of snapshot.revisions()) {
    const key = r.kv.key.toString('latin1');
    if (r.tombstone) live.delete(key);
    else live.set(key, r.kv);
  }
  return live;
}

/** Lease ID (decimal) → sorted keys attached to it at the image's revision. */
export function keysByLease(live: Map<string, StoredKeyValue>): Map<string, string[]> {
  const byLease = new Map<string, string[]>();
  for (const kv of live.values()) {
    if (kv.lease === 0n) continue;
    const id = kv.lease.toString();
    byLease.set(id, [...(byLease.get(id) ?? []), kv.key.toString('utf8')].sort());
  }
  return byLease;
}
