import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISK_RESERVE_BYTES, DiskSpaceGuard, statfsFreeBytes } from '../../../src/server/quota/disk-space.js';
import type { Logger } from '../../../src/util/log.js';

const MiB = 1024 * 1024;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const none = (): void => undefined;
  const logger: Logger & { warnings: string[] } = {
    warnings,
    debug: none,
    info: none,
    error: none,
    warn: (msg) => void warnings.push(msg),
    child: () => logger,
  };
  return logger;
}

/** A guard over a disk whose free bytes the test sets. */
function fakeDisk(free: number) {
  const disk = { free };
  const guard = new DiskSpaceGuard('/data', { logger: recordingLogger(), reserveBytes: 64 * MiB, freeBytes: () => disk.free });
  return { disk, guard };
}

test('disk space: a write fits while it leaves the reserve free, and not once it would eat into it', () => {
  const { guard } = fakeDisk(65 * MiB);
  assert.equal(guard.hasRoom(MiB), true);
  assert.equal(guard.hasRoom(MiB + 1), false);
  assert.equal(fakeDisk(10 * MiB).guard.hasRoom(0), false);
});

test('disk space: every write looks again, so freed space is seen at once', () => {
  const { disk, guard } = fakeDisk(32 * MiB);
  assert.equal(guard.hasRoom(100), false);
  disk.free = 200 * MiB;
  assert.equal(guard.hasRoom(100), true);
  assert.equal(guard.lastFreeBytes, 200 * MiB);
  disk.free = 0;
  assert.equal(guard.hasRoom(0), false);
});

test('disk space: a filesystem that cannot report its space does not stop writes, and says so once', () => {
  const logger = recordingLogger();
  const guard = new DiskSpaceGuard('/nowhere', {
    logger,
    freeBytes: () => {
      throw new Error('ENOSYS: function not implemented');
    },
  });
  assert.equal(guard.hasRoom(MiB), true);
  assert.equal(guard.hasRoom(MiB), true);
  assert.equal(logger.warnings.length, 1);
});

test('disk space: statfs reads the real free space; the default reserve is one etcd WAL segment', () => {
  const free = statfsFreeBytes(tmpdir());
  assert.ok(Number.isSafeInteger(free) && free > 0, String(free));
  assert.equal(DISK_RESERVE_BYTES, 64 * MiB);
  assert.throws(() => statfsFreeBytes(join(tmpdir(), 'strata-no-such-dir', 'x')), /ENOENT/);
});
