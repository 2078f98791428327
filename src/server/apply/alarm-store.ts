import type Database from 'better-sqlite3';
import type { AlarmMember, AlarmType } from '../../api/etcd-types.js';

interface AlarmRow {
  member_id: bigint;
  type: string;
}

/**
 * Active alarms per member (etcd's alarm store), persisted; writes join the apply
 * transaction. Member IDs are uint64.
 */
export class AlarmStore {
  private active: AlarmMember[] = [];
  private readonly listStmt: Database.Statement<[], AlarmRow>;
  private readonly putStmt: Database.Statement<[bigint, string]>;
  private readonly deleteStmt: Database.Statement<[bigint, string]>;

  constructor(db: Database.Database) {
    this.listStmt = db.prepare<[], AlarmRow>('SELECT member_id, type FROM alarm').safeIntegers(true);
    this.putStmt = db.prepare('INSERT OR IGNORE INTO alarm (member_id, type) VALUES (?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM alarm WHERE member_id = ? AND type = ?');
    this.reload();
  }

  reload(): void {
    this.active = this.listStmt
      .all()
      .map((row) => ({ memberID: BigInt.asUintN(64, row.member_id).toString(), alarm: row.type as AlarmType }));
  }

  /** Alarms of one type, or all of them for NONE. */
  get(type: AlarmType): AlarmMember[] {
    return this.active.filter((a) => type === 'NONE' || a.alarm === type).map((a) => ({ ...a }));
  }

  isActive(type: AlarmType): boolean {
    return this.active.some((a) => a.alarm === type);
  }

  /** Raises an alarm; returns it (also when it was already raised). */
  activate(memberId: bigint, type: AlarmType): AlarmMember {
    const memberID = memberId.toString();
    const existing = this.active.find((a) => a.memberID === memberID && a.alarm === type);
    if (existing) return { ...existing };
    this.putStmt.run(BigInt.asIntN(64, memberId), type);
    const alarm = { memberID, alarm: type };
    this.active.push(alarm);
    return { ...alarm };
  }

  /** Clears an alarm; returns it, or undefined when it was not raised. */
  deactivate(memberId: bigint, type: AlarmType): AlarmMember | undefined {
    const memberID = memberId.toString();
    const index = this.active.findIndex((a) => a.memberID === memberID && a.alarm === type);
    if (index < 0) return undefined;
    this.deleteStmt.run(BigInt.asIntN(64, memberId), type);
    const [removed] = this.active.splice(index, 1);
    return removed;
  }
}
