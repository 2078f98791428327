// `snapshot verify` and `status` read an archive on a worker thread (inspect-thread.ts), and
// stdin in the main thread: both must answer as one process would, with its exit codes and lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateHistory, writeArchive } from '../archive/history.js';
import { runStrata, tempDir } from '../support/index.js';

const SEED = Number(process.env.STRATA_TEST_SEED ?? 5);

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '');
}

test(`verify and status answer from their reading thread: results, exit 3 with one line for damage, exit 1 for a missing file (seed ${SEED})`, async (t) => {
  const history = generateHistory(SEED, { revisions: 3_000, keys: 400, valueBytes: 200, compactAt: 0.3, leases: 2 });
  const { bytes, summary } = await writeArchive(history, { chunkBytes: 32 * 1024 });
  const dir = tempDir('snapshot-inspect', t).path;
  const good = join(dir, 'good.tar.zst');
  writeFileSync(good, bytes);
  const damaged = join(dir, 'damaged.tar.zst');
  const flipped = Buffer.from(bytes);
  flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
  writeFileSync(damaged, flipped);

  const verified = await runStrata(['snapshot', 'verify', good, '--json']);
  assert.equal(verified.code, 0, verified.stderr);
  const report = JSON.parse(verified.stdout) as { ok: boolean; revision: number; totalKey: number };
  assert.deepEqual([report.ok, report.revision, report.totalKey], [true, summary.manifest.revision, summary.trailer.keyCount]);
  const status = await runStrata(['snapshot', 'status', good, '-w', 'json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal((JSON.parse(status.stdout) as { totalKey: number }).totalKey, summary.trailer.keyCount);

  for (const [how, args, input] of [
    ['verify of a file', ['snapshot', 'verify', damaged], undefined],
    ['status of a file', ['snapshot', 'status', damaged], undefined],
    ['verify of stdin', ['snapshot', 'verify', '-'], flipped],
  ] as const) {
    const res = await runStrata(args, input === undefined ? {} : { input });
    assert.equal(res.code, 3, `${how}: ${res.stderr}`);
    const lines = errorLines(res.stderr);
    assert.equal(lines.length, 1, `${how}: one line, got:\n${res.stderr}`);
    assert.match(lines[0]!, new RegExp(`^Error: Cannot read snapshot '${input === undefined ? damaged : '-'}': `));
  }

  const debug = await runStrata(['--debug', 'snapshot', 'verify', damaged]);
  assert.equal(debug.code, 3);
  assert.match(debug.stderr, /\nIntegrityError: Cannot read snapshot .*\n +at /, '--debug shows the reading thread\'s stack');

  const missing = await runStrata(['snapshot', 'verify', join(dir, 'none.tar.zst')]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.deepEqual(errorLines(missing.stderr), [`Error: Cannot open snapshot '${join(dir, 'none.tar.zst')}': no such file or directory; check the path`]);
});
