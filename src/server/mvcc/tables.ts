import type Database from 'better-sqlite3';
import { rangeCondition, type KeyRange } from './key-range.js';

/** The live row of a key: its latest revision and what the next put of it needs. */
export interface LiveRow {
  main: number;
  sub: number;
  createRevision: number;
  version: number;
  lease: bigint;
}

/** One stored revision. */
export interface RevRow {
  main: number;
  sub: number;
  tomb: boolean;
  key: Buffer;
  kv: Buffer;
}

interface RawLive {
  main: bigint;
  sub: bigint;
  create_rev: bigint;
  version: bigint;
  lease: bigint;
}

interface RawRev {
  main: number;
  sub: number;
  tomb: number;
  key: Buffer;
  kv: Buffer;
}

const toRevRow = (r: RawRev): RevRow => ({ main: r.main, sub: r.sub, tomb: r.tomb !== 0, key: r.key, kv: r.kv });

/**
 * Every SQL statement over the rev and live tables, prepared once. The "latest revision of a
 * key at or below R" is etcd's keyIndex.get; it relies on a key being written at most once per
 * main revision, which etcd's txn checks guarantee.
 */
export class MvccTables {
  private readonly cache = new Map<string, Database.Statement>();
  private readonly insertRevStmt: Database.Statement<[number, number, number, Buffer, Buffer]>;
  private readonly deleteRevStmt: Database.Statement<[number, number]>;
  private readonly revKvStmt: Database.Statement<[number, number], { kv: Buffer }>;
  private readonly getLiveStmt: Database.Statement<[Buffer], RawLive>;
  private readonly upsertLiveStmt: Database.Statement<[Buffer, number, number, number, number, bigint]>;
  private readonly deleteLiveStmt: Database.Statement<[Buffer]>;
  private readonly keyAtStmt: Database.Statement<[Buffer, number], RawRev>;
  private readonly laterStmt: Database.Statement<[Buffer, number, number], { one: number }>;
  private readonly revsAfterStmt: Database.Statement<[number, number, number, number], RawRev>;
  private readonly leaseKeysStmt: Database.Statement<[bigint], { key: Buffer }>;
  private readonly anyLiveStmt: Database.Statement<[], { one: number }>;
  private readonly anyAliveAtStmt: Database.Statement<[number], { one: number }>;
  private readonly maxMainStmt: Database.Statement<[], { main: number | null }>;

  constructor(readonly db: Database.Database) {
    this.insertRevStmt = db.prepare('INSERT INTO rev (main, sub, tomb, key, kv) VALUES (?, ?, ?, ?, ?)');
    this.deleteRevStmt = db.prepare('DELETE FROM rev WHERE main = ? AND sub = ?');
    this.revKvStmt = db.prepare('SELECT kv FROM rev WHERE main = ? AND sub = ?');
    this.getLiveStmt = db
      .prepare<[Buffer], RawLive>('SELECT main, sub, create_rev, version, lease FROM live WHERE key = ?')
      .safeIntegers(true);
    this.upsertLiveStmt = db.prepare(
      `INSERT INTO live (key, main, sub, create_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET main = excluded.main, sub = excluded.sub,
         create_rev = excluded.create_rev, version = excluded.version, lease = excluded.lease`,
    );
    this.deleteLiveStmt = db.prepare('DELETE FROM live WHERE key = ?');
    this.keyAtStmt = db.prepare(
      'SELECT main, sub, tomb, key, kv FROM rev WHERE key = ? AND main <= ? ORDER BY main DESC, sub DESC LIMIT 1',
    );
    this.laterStmt = db.prepare('SELECT 1 AS one FROM rev WHERE key = ? AND main > ? AND main <= ? LIMIT 1');
    this.revsAfterStmt = db.prepare(
      'SELECT main, sub, tomb, key, kv FROM rev WHERE (main, sub) > (?, ?) AND main <= ? ORDER BY main, sub LIMIT ?',
    );
    this.leaseKeysStmt = db.prepare('SELECT key FROM live WHERE lease = ? ORDER BY key');
    this.anyLiveStmt = db.prepare('SELECT 1 AS one FROM live LIMIT 1');
    this.anyAliveAtStmt = db.prepare(
      'SELECT 1 AS one FROM (SELECT max(main) AS main, tomb FROM rev WHERE main <= ? GROUP BY key) WHERE tomb = 0 LIMIT 1',
    );
    this.maxMainStmt = db.prepare('SELECT max(main) AS main FROM rev');
  }

  private stmt<P extends unknown[], R>(name: string, sql: () => string): Database.Statement<P, R> {
    let stmt = this.cache.get(name);
    if (!stmt) {
      stmt = this.db.prepare(sql());
      this.cache.set(name, stmt);
    }
    return stmt as unknown as Database.Statement<P, R>;
  }

  insertRev(main: number, sub: number, tomb: boolean, key: Buffer, kv: Buffer): void {
    this.insertRevStmt.run(main, sub, tomb ? 1 : 0, key, kv);
  }

  deleteRev(main: number, sub: number): void {
    this.deleteRevStmt.run(main, sub);
  }

  revKv(main: number, sub: number): Buffer | undefined {
    return this.revKvStmt.get(main, sub)?.kv;
  }

  maxMain(): number {
    return this.maxMainStmt.get()?.main ?? 0;
  }

  getLive(key: Buffer): LiveRow | undefined {
    const raw = this.getLiveStmt.get(key);
    if (!raw) return undefined;
    return {
      main: Number(raw.main),
      sub: Number(raw.sub),
      createRevision: Number(raw.create_rev),
      version: Number(raw.version),
      lease: raw.lease,
    };
  }

  putLive(key: Buffer, row: LiveRow): void {
    this.upsertLiveStmt.run(key, row.main, row.sub, row.createRevision, row.version, row.lease);
  }

  deleteLive(key: Buffer): void {
    this.deleteLiveStmt.run(key);
  }

  /** Keys that exist now, in key order. */
  liveKeys(range: KeyRange): Buffer[] {
    const c = rangeCondition(range);
    const stmt = this.stmt<Buffer[], { key: Buffer }>(`liveKeys:${c.shape}`, () => `SELECT key FROM live WHERE ${c.sql} ORDER BY key`);
    return stmt.all(...c.params).map((r) => r.key);
  }

  liveCount(range: KeyRange): number {
    const c = rangeCondition(range);
    const stmt = this.stmt<Buffer[], { n: number }>(`liveCount:${c.shape}`, () => `SELECT count(*) AS n FROM live WHERE ${c.sql}`);
    return stmt.get(...c.params)?.n ?? 0;
  }

  /** Marshalled KeyValues of the keys that exist now, in key order; limit < 0 for all. */
  liveKvs(range: KeyRange, limit: number): Buffer[] {
    const c = rangeCondition(range, 'l');
    const stmt = this.stmt<unknown[], { kv: Buffer }>(
      `liveKvs:${c.shape}`,
      () => `SELECT r.kv AS kv FROM live AS l JOIN rev AS r ON r.main = l.main AND r.sub = l.sub
             WHERE ${c.sql} ORDER BY l.key LIMIT ?`,
    );
    return stmt.all(...c.params, limit).map((r) => r.kv);
  }

  private latestAtSql(condition: string): string {
    return `SELECT key, max(main) AS main, sub, tomb FROM rev WHERE ${condition} AND main <= ? GROUP BY key`;
  }

  historyCount(range: KeyRange, rev: number): number {
    const c = rangeCondition(range);
    const stmt = this.stmt<unknown[], { n: number }>(
      `historyCount:${c.shape}`,
      () => `SELECT count(*) AS n FROM (${this.latestAtSql(c.sql)}) WHERE tomb = 0`,
    );
    return stmt.get(...c.params, rev)?.n ?? 0;
  }

  /**
   * Marshalled KeyValues of the keys that existed at `rev`, in key order; limit < 0 for all.
   * Walks the key index in order and stops at the limit: a revision counts when it is a put
   * and no later revision of its key is at or below `rev`.
   */
  historyKvs(range: KeyRange, rev: number, limit: number): Buffer[] {
    const c = rangeCondition(range, 'r');
    const stmt = this.stmt<unknown[], { kv: Buffer }>(
      `historyKvs:${c.shape}`,
      () => `SELECT r.kv AS kv FROM rev AS r INDEXED BY rev_by_key
             WHERE ${c.sql} AND r.main <= ? AND r.tomb = 0
               AND NOT EXISTS (SELECT 1 FROM rev AS n WHERE n.key = r.key AND n.main > r.main AND n.main <= ?)
             ORDER BY r.key LIMIT ?`,
    );
    return stmt.all(...c.params, rev, rev, limit).map((r) => r.kv);
  }

  /** The latest revision of `key` at or below `rev`, tombstone or not. */
  keyAt(key: Buffer, rev: number): RevRow | undefined {
    const raw = this.keyAtStmt.get(key, rev);
    return raw ? toRevRow(raw) : undefined;
  }

  /** Whether `key` has a revision with main in (after, upTo]. */
  hasRevisionBetween(key: Buffer, after: number, upTo: number): boolean {
    return this.laterStmt.get(key, after, upTo) !== undefined;
  }

  /** Up to `limit` revisions after (main, sub) with main <= upTo, in revision order. */
  revisionsAfter(main: number, sub: number, upTo: number, limit: number): RevRow[] {
    return this.revsAfterStmt.all(main, sub, upTo, limit).map(toRevRow);
  }

  /** Keys attached to a lease, sorted as etcd sorts them before revoking. */
  keysWithLease(lease: bigint): Buffer[] {
    return this.leaseKeysStmt.all(lease).map((r) => r.key);
  }

  /** Whether any key exists at `rev` (`rev` at or past the latest revision reads the live table). */
  anyKeyAt(rev: number, latest: boolean): boolean {
    return (latest ? this.anyLiveStmt.get() : this.anyAliveAtStmt.get(rev)) !== undefined;
  }
}
