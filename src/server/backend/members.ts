import type Database from 'better-sqlite3';

/** One cluster member as the backend records it. IDs are uint64. */
export interface StoredMember {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

interface MemberRow {
  id: bigint;
  name: string;
  peer_urls: string;
  client_urls: string;
  is_learner: bigint;
}

/** Membership persisted for the loop's membership code; writes join the caller's transaction. */
export class MemberStore {
  private readonly listStmt: Database.Statement<[], MemberRow>;
  private readonly putStmt: Database.Statement<[bigint, string, string, string, number]>;
  private readonly removeStmt: Database.Statement<[bigint]>;
  private readonly markRemovedStmt: Database.Statement<[string]>;
  private readonly removedStmt: Database.Statement<[string], { found: number }>;

  constructor(db: Database.Database) {
    this.listStmt = db.prepare<[], MemberRow>('SELECT id, name, peer_urls, client_urls, is_learner FROM member').safeIntegers(true);
    this.putStmt = db.prepare(
      `INSERT INTO member (id, name, peer_urls, client_urls, is_learner) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, peer_urls = excluded.peer_urls,
         client_urls = excluded.client_urls, is_learner = excluded.is_learner`,
    );
    this.removeStmt = db.prepare('DELETE FROM member WHERE id = ?');
    // etcd's members_removed bucket, kept as meta rows so the schema stays as it is.
    this.markRemovedStmt = db.prepare("INSERT INTO meta (name, value) VALUES (?, '1') ON CONFLICT (name) DO NOTHING");
    this.removedStmt = db.prepare<[string], { found: number }>('SELECT 1 AS found FROM meta WHERE name = ?');
  }

  /** Members ordered by ID (unsigned), as etcd lists them. */
  list(): StoredMember[] {
    return this.listStmt
      .all()
      .map((row) => ({
        id: BigInt.asUintN(64, row.id),
        name: row.name,
        peerUrls: JSON.parse(row.peer_urls) as string[],
        clientUrls: JSON.parse(row.client_urls) as string[],
        isLearner: row.is_learner !== 0n,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  put(member: StoredMember): void {
    this.putStmt.run(
      BigInt.asIntN(64, member.id),
      member.name,
      JSON.stringify(member.peerUrls),
      JSON.stringify(member.clientUrls),
      member.isLearner ? 1 : 0,
    );
  }

  /** True when the member existed. The ID stays known as removed: it may never take part again. */
  remove(id: bigint): boolean {
    this.markRemovedStmt.run(removedKey(id));
    return this.removeStmt.run(BigInt.asIntN(64, id)).changes > 0;
  }

  isRemoved(id: bigint): boolean {
    return this.removedStmt.get(removedKey(id)) !== undefined;
  }
}

function removedKey(id: bigint): string {
  return `removed_member/${id.toString()}`;
}
