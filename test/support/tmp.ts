import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A fresh directory under os.tmpdir(); removed when the test `t` ends (or by remove()). */
export function tempDir(prefix: string, t?: Pick<TestContext, 'after'>): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `strata-${prefix}-`));
  const remove = (): void => rmSync(path, { recursive: true, force: true });
  t?.after(remove);
  return { path, remove };
}
