import { decodeKeyValue } from '../api/mvccpb.js';
import { ArchiveWriter, idToHex, type ArchiveMember, type ArchiveSource, type ArchiveWriteSummary } from '../archive/index.js';
import { Backend, backendPath } from './backend/backend.js';
import { MemberStore, type StoredMember } from './backend/members.js';
import { MetaKey, MetaStore } from './backend/meta.js';
import { MvccTables } from './mvcc/tables.js';
import { StrataError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';

export type { StoredMember } from './backend/members.js';

/** One stored MVCC revision with its marshalled mvccpb.KeyValue, exactly as the backend holds it. */
export interface DataDirRevision {
  main: number;
  sub: number;
  tombstone: boolean;
  key: Buffer;
  kv: Buffer;
}

export interface DataDirLease {
  id: bigint;
  ttl: number;
  /** Checkpointed remaining TTL, or the granted TTL when none was checkpointed. */
  remainingTtl: number;
}

/**
 * A consistent read-only view of a bundled server's backend: everything it gives comes from
 * ONE read transaction, so it is one revision even while a server process keeps writing.
 */
export interface DataDirView {
  readonly path: string;
  readonly revision: number;
  /** The scheduled compact revision (0 when never compacted), as HashKV reports it. */
  readonly compactRevision: number;
  readonly clusterId: bigint;
  readonly memberId: bigint | undefined;
  readonly members: StoredMember[];
  readonly leases: DataDirLease[];
  /**
   * The stored history as compaction leaves it, in (main, sub) order, `batchSize` at a time:
   * every revision above the compact revision, and at or below it each key's newest revision
   * when that is a put (what a finished compaction keeps; an unfinished one is filtered the same).
   */
  revisionBatches(batchSize?: number): AsyncGenerator<DataDirRevision[]>;
  /** Ends the read transaction and closes the connection; safe to call twice. */
  close(): void;
}

interface LeaseRow {
  id: bigint;
  ttl: bigint;
  remaining_ttl: bigint;
}

/** Opens the backend of data dir `dataDir` read-only (a server may run on it). */
export function openDataDirReader(dataDir: string, options: { logger?: Logger } = {}): DataDirView {
  return openBackendReader(backendPath(dataDir), options);
}

/** Same as openDataDirReader, for the backend file itself (the server reads its own this way). */
export function openBackendReader(path: string, options: { logger?: Logger } = {}): DataDirView {
  const backend = Backend.open(path, { logger: options.logger ?? silentLogger, readOnly: true });
  const db = backend.db;
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    if (db.inTransaction) db.exec('ROLLBACK');
    backend.close();
  };
  try {
    // BEGIN is deferred: the snapshot is taken by the first read, which follows at once.
    db.exec('BEGIN');
    const meta = new MetaStore(db);
    const tables = new MvccTables(db);
    const revision = meta.getNumber(MetaKey.currentRevision) ?? Math.max(1, tables.maxMain());
    const compactRevision = Math.max(0, meta.getNumber(MetaKey.scheduledCompactRevision) ?? 0);
    const clusterId = meta.getBigInt(MetaKey.clusterId);
    if (clusterId === undefined) {
      throw new StrataError('STRATA_DATADIR_EMPTY', `Cannot read backend '${path}': it has no cluster ID yet; start the server on this data dir once first`);
    }
    const memberId = meta.getBigInt(MetaKey.memberId);
    const members = new MemberStore(db).list();
    const leases = db
      .prepare<[], LeaseRow>('SELECT id, ttl, remaining_ttl FROM lease ORDER BY id')
      .safeIntegers(true)
      .all()
      .map((row) => ({ id: row.id, ttl: Number(row.ttl), remainingTtl: Number(row.remaining_ttl) > 0 ? Number(row.remaining_ttl) : Number(row.ttl) }));
    async function* revisionBatches(batchSize = 1000): AsyncGenerator<DataDirRevision[]> {
      let cursor = { main: 0, sub: -1 };
      for (;;) {
        if (!open) throw new StrataError('STRATA_DATADIR_CLOSED', `Cannot read backend '${path}': the reader was closed`);
        const rows = tables.revisionsAfter(cursor.main, cursor.sub, revision, batchSize);
        const last = rows[rows.length - 1];
        if (last === undefined) return;
        cursor = { main: last.main, sub: last.sub };
        const kept = rows.filter((r) => r.main > compactRevision || (!r.tomb && !tables.hasRevisionBetween(r.key, r.main, compactRevision)));
        if (kept.length > 0) yield kept.map((r) => ({ main: r.main, sub: r.sub, tombstone: r.tomb, key: r.key, kv: r.kv }));
        if (rows.length < batchSize) return;
      }
    }
    return { path, revision, compactRevision, clusterId, memberId, members, leases, revisionBatches, close };
  } catch (err) {
    close();
    throw err;
  }
}

export function archiveMembers(members: StoredMember[]): ArchiveMember[] {
  return members.map((m) => ({ id: idToHex(m.id), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner }));
}

export interface DataDirArchiveOptions {
  toolVersion: string;
  /** Source fields beyond what the view knows (kind, endpoints, dataDir, serverVersion). */
  source: Omit<ArchiveSource, 'clusterId' | 'members' | 'memberId'>;
  level?: number;
  logger?: Logger;
}

/**
 * An archive writer fed from `view` (records, then leases, then the trailer); read its
 * `output` while `done` runs. Takes over the view: it is closed when `done` settles.
 */
export function archiveDataDir(view: DataDirView, options: DataDirArchiveOptions): { writer: ArchiveWriter; done: Promise<ArchiveWriteSummary> } {
  try {
    return startArchive(view, options);
  } catch (err) {
    view.close();
    throw err;
  }
}

function startArchive(view: DataDirView, options: DataDirArchiveOptions): { writer: ArchiveWriter; done: Promise<ArchiveWriteSummary> } {
  const source: ArchiveSource = { ...options.source, clusterId: idToHex(view.clusterId), members: archiveMembers(view.members) };
  if (view.memberId !== undefined) source.memberId = idToHex(view.memberId);
  const writer = new ArchiveWriter({
    manifest: { toolVersion: options.toolVersion, source, revision: view.revision, compactRevision: view.compactRevision },
    ...(options.level !== undefined ? { level: options.level } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  const done = (async () => {
    try {
      for await (const batch of view.revisionBatches()) {
        await writer.writeRecords(batch.map((r) => ({ main: r.main, sub: r.sub, tombstone: r.tombstone, kv: decodeKeyValue(r.kv), kvBytes: r.kv })));
      }
      for (const lease of view.leases) await writer.writeLease({ id: lease.id, grantedTtl: lease.ttl, remainingTtl: lease.remainingTtl });
      return await writer.finish();
    } catch (err) {
      writer.abort(err as Error);
      throw err;
    } finally {
      view.close();
    }
  })();
  done.catch(() => undefined);
  return { writer, done };
}
