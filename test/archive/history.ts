// Seeded MVCC histories for the archive tests, shaped the way etcd's HashKV sees a store:
// every revision above the compact revision, plus the one put compaction keeps per key.
import type { ArchiveLease } from '../../src/api/archivepb.js';
import type { ArchiveRecord, ManifestInput } from '../../src/archive/index.js';
import { ArchiveWriter, type ArchiveWriterOptions, type ArchiveWriteSummary } from '../../src/archive/index.js';
import { seededRandom } from '../support/random.js';

export interface History {
  records: ArchiveRecord[];
  leases: ArchiveLease[];
  revision: number;
  compactRevision: number;
  liveKeys: number;
}

export interface HistoryShape {
  /** Revisions to generate (each one a put, a delete or a small transaction). */
  revisions: number;
  keys: number;
  valueBytes: number;
  /** Where to compact, as a fraction of the revisions (0: never). */
  compactAt: number;
  leases: number;
}

export function generateHistory(seed: number, shape: HistoryShape): History {
  const random = seededRandom(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const leases: ArchiveLease[] = [];
  for (let i = 0; i < shape.leases; i++) {
    const granted = 60 + pick(3600);
    leases.push({ id: (BigInt(pick(0x7fffffff)) << 32n) | BigInt(i + 1), grantedTtl: granted, remainingTtl: pick(granted) + 1 });
  }
  const state = new Map<string, { create: number; version: number }>();
  const all: ArchiveRecord[] = [];
  const value = (rev: number): Buffer => {
    const text = `v${rev}:`.padEnd(shape.valueBytes, String.fromCharCode(97 + (rev % 26)));
    return Buffer.from(text.slice(0, Math.max(shape.valueBytes, 1)));
  };
  for (let main = 1; main <= shape.revisions; main++) {
    const ops = random() < 0.1 ? 2 + pick(3) : 1;
    const touched = new Set<string>();
    for (let sub = 0; sub < ops; sub++) {
      let name = `/registry/items/ns${pick(7)}/key-${String(pick(shape.keys)).padStart(6, '0')}`;
      while (touched.has(name)) name += '+';
      touched.add(name);
      const key = Buffer.from(name);
      const current = state.get(name);
      if (current !== undefined && random() < 0.15) {
        state.delete(name);
        all.push({ main, sub, tombstone: true, kv: { key, createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n } });
        continue;
      }
      const next = current === undefined ? { create: main, version: 1 } : { create: current.create, version: current.version + 1 };
      state.set(name, next);
      const lease = leases.length > 0 && random() < 0.2 ? leases[pick(leases.length)]!.id : 0n;
      all.push({ main, sub, tombstone: false, kv: { key, createRevision: next.create, modRevision: main, version: next.version, value: value(main), lease } });
    }
  }
  const compactRevision = Math.floor(shape.revisions * shape.compactAt);
  // Compaction keeps, per key, its newest revision at or below the compact revision unless that is a tombstone.
  const newestAtCompact = new Map<string, ArchiveRecord>();
  for (const r of all) if (r.main <= compactRevision) newestAtCompact.set(r.kv.key.toString('latin1'), r);
  const kept = new Set([...newestAtCompact.values()].filter((r) => !r.tombstone));
  const records = all.filter((r) => r.main > compactRevision || kept.has(r));
  return { records, leases, revision: shape.revisions, compactRevision, liveKeys: state.size };
}

export function manifestFor(history: History, createdAt = new Date('2025-01-02T03:04:05Z')): ManifestInput {
  return {
    toolVersion: '0.0.0-test',
    createdAt,
    source: {
      kind: 'strata',
      endpoints: ['http://127.0.0.1:2379'],
      endpoint: 'http://127.0.0.1:2379',
      clusterId: 'cdf818194e3a8c32',
      memberId: '8e9e05c52164694d',
      members: [{ id: '8e9e05c52164694d', name: 'default', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'], isLearner: false }],
      serverVersion: '3.4.23',
    },
    revision: history.revision,
    compactRevision: history.compactRevision,
  };
}

/** Writes a whole archive into memory, reading the output as it is produced. */
export async function writeArchive(
  history: History,
  options: Partial<ArchiveWriterOptions> = {},
): Promise<{ bytes: Buffer; summary: ArchiveWriteSummary }> {
  const writer = new ArchiveWriter({ manifest: manifestFor(history), ...options });
  const collected: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of writer.output) collected.push(chunk as Buffer);
  })();
  for (const record of history.records) await writer.writeRecord(record);
  for (const lease of history.leases) await writer.writeLease(lease);
  const summary = await writer.finish();
  await reading;
  return { bytes: Buffer.concat(collected), summary };
}
