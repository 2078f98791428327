import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { StrataError } from '../../src/util/errors.js';

/**
 * A tmpfs of `bytes` on a fresh directory: a small disk to fill. It is unmounted (lazily, so a
 * process still holding a file there does not stop it) and removed when `t` ends. Mounting
 * needs root: where it is refused, `refused` says why and the caller skips.
 */
export function mountTmpfs(t: Pick<TestContext, 'after'>, bytes: number): { path: string } | { refused: string } {
  const path = mkdtempSync(join(tmpdir(), 'strata-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', path]);
  t.after(() => {
    if (mounted.status === 0) spawnSync('umount', ['-l', path]);
    rmSync(path, { recursive: true, force: true });
  });
  if (mounted.status === 0) return { path };
  return { refused: `cannot mount a tmpfs here (${mounted.stderr.toString().trim() || `mount exited ${mounted.status}`})` };
}

/** mountTmpfs's path, or undefined once `t` is skipped because mounting is refused. */
export function smallDisk(t: Pick<TestContext, 'after' | 'skip'>, bytes: number): string | undefined {
  const disk = mountTmpfs(t, bytes);
  if ('path' in disk) return disk.path;
  t.skip(disk.refused);
  return undefined;
}

/**
 * Fills the small disk at `disk` through `fill` and checks that it fails as spilled state
 * does on a full disk: one line (code STRATA_TEMP_FILES) naming the work, the directory
 * (`<disk>/<prefix>…`) and TMPDIR; `release` then cleans up and nothing may be left.
 */
export function assertFullDiskFailure(disk: string, expected: { purpose: string; prefix: string }, fill: () => void, release: () => void): void {
  assert.throws(fill, (err: unknown) => {
    assert.ok(err instanceof StrataError);
    assert.equal(err.code, 'STRATA_TEMP_FILES');
    assert.match(err.message, new RegExp(`^Cannot ${expected.purpose}: .* temporary files in '${disk}/${expected.prefix}\\w+'.*ENOSPC.*; set TMPDIR to a directory with room$`));
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  release();
  assert.ok(!existsSync(disk) || readdirSync(disk).length === 0, 'nothing left on the disk');
}
