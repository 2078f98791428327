import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectLocation, type InspectResults } from '../../src/snapshot/inspect.js';
import { inspectInThread } from '../../src/snapshot/inspect-thread.js';
import { generateHistory, writeArchive } from '../archive/history.js';
import { tempDir } from '../support/index.js';

const SEED = Number(process.env.STRATA_TEST_SEED ?? 11);

test(`verify and status report an archive's bytes as they read it, up to its size, here and from their reading thread (seed ${SEED})`, async (t) => {
  const history = generateHistory(SEED, { revisions: 6_000, keys: 900, valueBytes: 300, compactAt: 0, leases: 3 });
  const { bytes, summary } = await writeArchive(history, { chunkBytes: 64 * 1024 });
  const path = join(tempDir('inspect-progress', t).path, 'a.tar.zst');
  writeFileSync(path, bytes);

  const kinds: Array<keyof InspectResults> = ['verify', 'status'];
  for (const kind of kinds) {
    for (const [where, inspect] of [
      ['in this thread', inspectLocation],
      ['on its thread', inspectInThread],
    ] as const) {
      const what = `${kind} ${where}`;
      const seen: Array<{ bytes: number; total: number | undefined }> = [];
      const result = await inspect(kind, path, {}, { onBytes: (b, total) => void seen.push({ bytes: b, total }) });
      const status = 'status' in result ? result.status : result;
      assert.equal(status.totalKey, summary.trailer.keyCount, `${what}: the result comes back`);
      // Each read chunk here; from the worker, a report per MiB and one at the end.
      assert.ok(where === 'on its thread' ? seen.length >= 1 : seen.length > 1, `${what}: ${seen.length} reports for ${bytes.length} bytes`);
      assert.ok(seen.every((s, i) => s.total === bytes.length && (i === 0 || s.bytes > seen[i - 1]!.bytes)), `${what}: bytes rise against the file's size`);
      assert.equal(seen.at(-1)!.bytes, bytes.length, `${what}: every byte read is counted`);
    }
  }
});
