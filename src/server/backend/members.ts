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

  constructor(db: Database.Database) {
    this.listStmt = db.prepare<[], MemberRow>('SELECT id, name, peer_urls, client_urls, is_learner FROM member').safeIntegers(true);
    this.putStmt = db.prepare(
      `INSERT INTO member (id, name, peer_urls, client_urls, is_learner) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, peer_urls = excluded.peer_urls,
         client_urls = excluded.client_urls, is_learner = excluded.is_learner`,
    );
    this.removeStmt = db.prepare('DELETE FROM member WHERE id = ?');
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

  /** True when the member existed. */
  remove(id: bigint): boolean {
    return this.removeStmt.run(BigInt.asIntN(64, id)).changes > 0;
  }
}
