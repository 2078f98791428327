import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

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
