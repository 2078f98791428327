import type Database from 'better-sqlite3';

/** Names of the values the server keeps in the meta table. */
export const MetaKey = {
  consistentIndex: 'consistent_index',
  currentRevision: 'current_revision',
  scheduledCompactRevision: 'scheduled_compact_revision',
  finishedCompactRevision: 'finished_compact_revision',
  clusterId: 'cluster_id',
  memberId: 'member_id',
  term: 'term',
} as const;

/**
 * Typed access to the meta table. Numbers and bigints are stored as decimal text so 64-bit
 * IDs survive exactly; writes join the caller's transaction.
 */
export class MetaStore {
  private readonly getStmt: Database.Statement<[string], { value: unknown }>;
  private readonly putStmt: Database.Statement<[string, unknown]>;
  private readonly deleteStmt: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.getStmt = db.prepare('SELECT value FROM meta WHERE name = ?');
    this.putStmt = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    this.deleteStmt = db.prepare('DELETE FROM meta WHERE name = ?');
  }

  private raw(name: string): unknown {
    return this.getStmt.get(name)?.value;
  }

  getNumber(name: string): number | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : Number(value);
  }

  putNumber(name: string, value: number): void {
    this.putStmt.run(name, String(value));
  }

  getBigInt(name: string): bigint | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : BigInt(value as string);
  }

  putBigInt(name: string, value: bigint): void {
    this.putStmt.run(name, value.toString());
  }

  getString(name: string): string | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : String(value);
  }

  putString(name: string, value: string): void {
    this.putStmt.run(name, value);
  }

  getBuffer(name: string): Buffer | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(String(value));
  }

  putBuffer(name: string, value: Buffer): void {
    this.putStmt.run(name, value);
  }

  delete(name: string): void {
    this.deleteStmt.run(name);
  }
}
