import type Database from 'better-sqlite3';
import { EtcdError } from '../../api/etcd-errors.js';

/** etcd's MaxLeaseTTL: 9,000,000,000 seconds. */
export const MAX_LEASE_TTL = 9_000_000_000;

/**
 * etcd's minimum lease TTL: ceil(1.5 × election timeout) in seconds, where the election timeout
 * is electionTicks × heartbeat (etcd's defaults, 10 × 100 ms, give 2 s).
 */
export function minLeaseTtl(electionTimeoutMs: number): number {
  return Math.ceil((1.5 * electionTimeoutMs) / 1000);
}

export interface LessorOptions {
  /** Seconds; a grant below it is raised to it. */
  minTtl: number;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

export interface LeaseInfo {
  id: bigint;
  /** Granted TTL in seconds (after raising to the minimum). */
  ttl: number;
  /** Remaining TTL recorded by the last checkpoint, 0 when none. */
  remainingTtl: number;
  /** When the lease runs out, in clock milliseconds. */
  expiresAt: number;
}

interface LeaseRow {
  id: bigint;
  ttl: bigint;
  remaining_ttl: bigint;
}

/**
 * The lease table and the in-memory expiry of every lease. Which keys a lease holds is not
 * stored twice: it is the lease column of the live keys (etcd attaches a key to a lease on
 * put and detaches it on overwrite or delete, which is exactly what that column records).
 * Expiry times are not logged: on open every lease gets a fresh full TTL (or its checkpointed
 * remaining TTL), as etcd's lessor does when it is promoted.
 */
export class Lessor {
  private readonly leases = new Map<bigint, LeaseInfo>();
  private readonly putStmt: Database.Statement<[bigint, number, number]>;
  private readonly deleteStmt: Database.Statement<[bigint]>;
  private readonly listStmt: Database.Statement<[], LeaseRow>;

  constructor(
    db: Database.Database,
    private readonly options: LessorOptions,
  ) {
    this.putStmt = db.prepare(
      `INSERT INTO lease (id, ttl, remaining_ttl) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET ttl = excluded.ttl, remaining_ttl = excluded.remaining_ttl`,
    );
    this.deleteStmt = db.prepare('DELETE FROM lease WHERE id = ?');
    this.listStmt = db.prepare<[], LeaseRow>('SELECT id, ttl, remaining_ttl FROM lease').safeIntegers(true);
    this.reload();
  }

  /** Rebuilds the in-memory leases from the table, each with a fresh expiry. */
  reload(): void {
    const now = this.options.clock();
    this.leases.clear();
    for (const row of this.listStmt.all()) {
      const ttl = Number(row.ttl);
      const remainingTtl = Number(row.remaining_ttl);
      const extend = remainingTtl > 0 ? remainingTtl : ttl;
      this.leases.set(row.id, { id: row.id, ttl, remainingTtl, expiresAt: now + extend * 1000 });
    }
  }

  /** Grants a lease (inside the apply transaction); returns it with its effective TTL. */
  grant(id: bigint, ttl: number): LeaseInfo {
    if (id === 0n) throw new EtcdError('leaseNotFound');
    if (ttl > MAX_LEASE_TTL) throw new EtcdError('leaseTTLTooLarge');
    if (this.leases.has(id)) throw new EtcdError('leaseExist');
    const effective = Math.max(ttl, this.options.minTtl);
    const lease: LeaseInfo = { id, ttl: effective, remainingTtl: 0, expiresAt: this.options.clock() + effective * 1000 };
    this.putStmt.run(id, effective, 0);
    this.leases.set(id, lease);
    return lease;
  }

  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  get(id: bigint): LeaseInfo | undefined {
    return this.leases.get(id);
  }

  /** Forgets a revoked lease (its keys are deleted by the caller in the same transaction). */
  remove(id: bigint): void {
    this.deleteStmt.run(id);
    this.leases.delete(id);
  }

  /** Records the remaining TTL of leases (etcd's lease checkpoint), for a restart to honour. */
  checkpoint(id: bigint, remainingTtl: number): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    lease.remainingTtl = remainingTtl;
    this.putStmt.run(id, lease.ttl, remainingTtl);
  }

  /**
   * Keep-alive (not logged): extends the lease by its TTL and returns the TTL. An unknown lease,
   * or one already expired and waiting for its revoke, is leaseNotFound.
   */
  renew(id: bigint): number {
    const lease = this.leases.get(id);
    const now = this.options.clock();
    if (!lease || lease.expiresAt <= now) throw new EtcdError('leaseNotFound');
    lease.remainingTtl = 0;
    lease.expiresAt = now + lease.ttl * 1000;
    return lease.ttl;
  }

  /** Seconds left, truncated as etcd truncates; leaseNotFound for an unknown lease. */
  remainingSeconds(id: bigint): { ttl: number; grantedTtl: number } {
    const lease = this.leases.get(id);
    if (!lease) throw new EtcdError('leaseNotFound');
    return { ttl: Math.trunc((lease.expiresAt - this.options.clock()) / 1000), grantedTtl: lease.ttl };
  }

  /** Every lease, soonest expiry first (etcd's LeaseLeases order). */
  list(): LeaseInfo[] {
    return [...this.leases.values()].sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1));
  }

  /** Leases whose time is up at `nowMs`, soonest first; the loop proposes a revoke for each. */
  expired(nowMs: number = this.options.clock(), limit = Infinity): bigint[] {
    const out: bigint[] = [];
    for (const lease of this.list()) {
      if (lease.expiresAt > nowMs || out.length >= limit) break;
      out.push(lease.id);
    }
    return out;
  }

  /** Extends every lease as etcd does when a member becomes leader (so none expires at once). */
  promote(extendMs = 0): void {
    const now = this.options.clock();
    for (const lease of this.leases.values()) {
      const ttl = lease.remainingTtl > 0 ? lease.remainingTtl : lease.ttl;
      lease.expiresAt = now + extendMs + ttl * 1000;
    }
  }
}
