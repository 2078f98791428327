import { statfsSync } from 'node:fs';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

/**
 * Free space a write must leave on the data dir's filesystem. etcd preallocates every WAL
 * segment at 64 MiB, so an etcd member needs that much to cut its next segment; our WAL grows
 * its segments instead, but the same margin covers what still reaches the disk after writes
 * are refused: the entries already proposed (each at most --max-request-bytes), deletes and
 * compactions (which etcd lets through under NOSPACE), SQLite's WAL being checkpointed into
 * the database file, a new WAL segment's header and a raft snapshot marker.
 */
export const DISK_RESERVE_BYTES = 64 * 1024 * 1024;

/** How often a member looks at its disk when no write asks: so a follower raises the alarm too. */
export const DISK_CHECK_INTERVAL_MS = 1000;

export interface DiskSpaceOptions {
  logger: Logger;
  reserveBytes?: number;
  /** Bytes an unprivileged writer may still use on the filesystem holding `dir` (default: statfs). */
  freeBytes?: (dir: string) => number;
}

/** Bytes available to a non-root writer on the filesystem holding `dir`. */
export function statfsFreeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/**
 * Says whether a write fits on the data dir's disk with DISK_RESERVE_BYTES to spare. It is
 * asked before a write is proposed, so a filling disk raises the NOSPACE alarm and refuses
 * writes while the WAL and the backend can still take what is in flight. It reads statfs on
 * every write (about 1% of a busy leader's time) rather than a cached value like the backend
 * size: a burst of large requests could otherwise eat the reserve between two reads.
 */
export class DiskSpaceGuard {
  private readonly reserveBytes: number;
  private readonly freeBytes: (dir: string) => number;
  private free = Number.POSITIVE_INFINITY;
  private unreadable = false;

  constructor(
    readonly dir: string,
    private readonly options: DiskSpaceOptions,
  ) {
    this.reserveBytes = options.reserveBytes ?? DISK_RESERVE_BYTES;
    this.freeBytes = options.freeBytes ?? statfsFreeBytes;
  }

  /** Whether `bytes` more leave the reserve free. */
  hasRoom(bytes: number): boolean {
    this.free = this.read();
    return this.free - bytes >= this.reserveBytes;
  }

  /** The free bytes at the last look. */
  get lastFreeBytes(): number {
    return this.free;
  }

  get reserve(): number {
    return this.reserveBytes;
  }

  private read(): number {
    try {
      const free = this.freeBytes(this.dir);
      this.unreadable = false;
      return free;
    } catch (err) {
      // A filesystem that cannot report its space must not stop writes; the quota still applies.
      if (!this.unreadable) this.options.logger.warn('cannot read the free space of the data dir; not guarding it', { dir: this.dir, error: errorMessage(err) });
      this.unreadable = true;
      return Number.POSITIVE_INFINITY;
    }
  }
}
