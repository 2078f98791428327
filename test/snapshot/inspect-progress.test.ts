import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotStatus, verifySnapshot } from '../../src/snapshot/inspect.js';
import { LocalStore } from '../../src/snapshot/stores/local-store.js';
import { generateHistory, writeArchive } from '../archive/history.js';
import { tempDir } from '../support/index.js';

const SEED = Number(process.env.STRATA_TEST_SEED ?? 11);

test(`verify and status report an archive's bytes as they read it, up to its size (seed ${SEED})`, async (t) => {
  const history = generateHistory(SEED, { revisions: 6_000, keys: 900, valueBytes: 300, compactAt: 0, leases: 3 });
  const { bytes } = await writeArchive(history, { chunkBytes: 64 * 1024 });
  const path = join(tempDir('inspect-progress', t).path, 'a.tar.zst');
  writeFileSync(path, bytes);

  for (const [name, run] of [
    ['verify', (store: LocalStore, onBytes: (b: number, total: number | undefined) => void) => verifySnapshot(store, { onBytes })],
    ['status', (store: LocalStore, onBytes: (b: number, total: number | undefined) => void) => snapshotStatus(store, { onBytes })],
  ] as const) {
    const seen: Array<{ bytes: number; total: number | undefined }> = [];
    await run(await LocalStore.at(path), (b, total) => void seen.push({ bytes: b, total }));
    assert.ok(seen.length > 1, `${name}: ${seen.length} reports for ${bytes.length} bytes`);
    assert.ok(seen.every((s, i) => s.total === bytes.length && (i === 0 || s.bytes > seen[i - 1]!.bytes)), `${name}: bytes rise against the file's size`);
    assert.equal(seen.at(-1)!.bytes, bytes.length, `${name}: every byte read is counted`);
  }
});
