import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Wal } from '../../../src/server/wal/wal.js';
import { entryData } from './helpers.js';
import { tempDir } from '../../support/tmp.js';
import { seededRandom } from '../../support/random.js';

const writer = fileURLToPath(new URL('./crash-writer.js', import.meta.url));

/** Runs the writer until it has acknowledged `acks` entries, kill -9s it, returns every index it acknowledged. */
async function runAndKill(walDir: string, concurrency: number, acks: number): Promise<number[]> {
  const child = spawn(process.execPath, [writer, walDir, String(concurrency)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const acknowledged: number[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    acknowledged.push(Number(line));
    if (acknowledged.length === acks) child.kill('SIGKILL');
  });
  await once(lines, 'close');
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL', `the writer ended on its own (code ${code}): ${stderr}`);
  return acknowledged;
}

test('kill -9 during concurrent appends: every acknowledged entry is there after reopening', async (t) => {
  const seed = Number(process.env['STRATA_TEST_SEED'] ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const dir = tempDir('wal-crash', t).path;
  const walDir = join(dir, 'wal');
  let acknowledged = 0;
  for (let round = 1; round <= 3; round++) {
    const concurrency = 1 + Math.floor(random() * 64);
    const acks = 100 + Math.floor(random() * 1500);
    const what = `seed ${seed} (STRATA_TEST_SEED), round ${round}, ${concurrency} callers, kill after ${acks} acks`;
    const acked = await runAndKill(walDir, concurrency, acks);
    assert.ok(acked.length >= acks, what);
    acknowledged = Math.max(acknowledged, ...acked);

    const { wal, replay } = await Wal.open(walDir);
    let expected = 1;
    for await (const batch of replay.entries()) {
      for (const entry of batch) {
        assert.equal(entry.index, expected, what);
        assert.deepEqual(Buffer.from(entry.data), entryData(entry.index, 1, 1024), `${what}: entry ${entry.index}`);
        expected++;
      }
    }
    assert.ok(expected - 1 >= acknowledged, `${what}: acknowledged up to ${acknowledged}, replay ends at ${expected - 1}`);
    assert.ok((replay.hardState?.commit ?? 0) >= acknowledged, `${what}: the hard state of every acknowledged append is there`);
    await wal.close();
  }
});
