import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runProcess } from '../support/index.js';

const MiB = 2 ** 20;
const moduleUrl = new URL('../../src/util/young-generation.js', import.meta.url).href;

/**
 * Runs a fresh Node that makes about 400 MB of short-lived objects, holding the young
 * generation first when `hold` is set, and returns the largest new-space size it saw.
 */
async function largestNewSpace(hold: boolean): Promise<number> {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    ${hold ? `const { holdYoungGeneration } = await import(${JSON.stringify(moduleUrl)}); holdYoungGeneration();` : ''}
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    let largest = newSpace();
    let keep = [];
    for (let round = 0; round < 400; round++) {
      // Objects that live across a few thousand allocations, as decoded records do.
      for (let i = 0; i < 10000; i++) keep.push({ round, i, text: 'k' + i });
      if (keep.length > 30000) keep = [];
      largest = Math.max(largest, newSpace());
    }
    process.stdout.write(String(largest));
  `;
  const result = await runProcess(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(result.code, 0, result.stderr);
  return Number(result.stdout);
}

test('holdYoungGeneration keeps the young generation at its first size where it would otherwise grow', async () => {
  const grown = await largestNewSpace(false);
  const held = await largestNewSpace(true);
  // Without the hold the same garbage grows new space to several MiB (up to 32 on 64-bit).
  assert.ok(grown >= 8 * MiB, `new space without the hold reached only ${(grown / MiB).toFixed(1)} MiB`);
  assert.ok(held <= 2 * MiB, `new space with the hold grew to ${(held / MiB).toFixed(1)} MiB`);
});
