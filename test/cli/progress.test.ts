import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, type ProgressOutput } from '../../src/cli/progress.js';

function fakeOutput(isTTY: boolean): ProgressOutput & { written: string[] } {
  const written: string[] = [];
  return {
    isTTY,
    written,
    write: (text: string | Uint8Array) => {
      written.push(String(text));
      return true;
    },
  } as ProgressOutput & { written: string[] };
}

const MiB = 2 ** 20;

test('on a terminal the bar is drawn at once, redrawn in place at most every 100 ms with rate and ETA, and cleared at the end', () => {
  let now = 1_000_000;
  const out = fakeOutput(true);
  const progress = new Progress(out, 'verifying a.tar.zst', 100 * MiB, () => now);
  now += 1000;
  progress.update(25 * MiB);
  now += 50;
  progress.update(26 * MiB);
  now += 950;
  progress.update(50 * MiB);
  progress.done();
  assert.deepEqual(out.written, [
    '\r\x1b[Kverifying a.tar.zst [######..................] 25% 25.0 MiB at 25.0 MiB/s ETA 3s',
    '\r\x1b[Kverifying a.tar.zst [############............] 50% 50.0 MiB at 25.0 MiB/s ETA 2s',
    '\r\x1b[K',
  ]);
});

test('off a terminal nothing is written in the first five seconds, then one plain line every five', () => {
  let now = 0;
  const out = fakeOutput(false);
  const progress = new Progress(out, 'saving to s3://b/k', undefined, () => now);
  for (; now < 4999; now += 500) progress.update(now * 1000);
  assert.deepEqual(out.written, [], 'a short run logs nothing');
  now = 5000;
  progress.update(5e6, 0.5);
  now = 7000;
  progress.update(7e6, 0.7);
  now = 10_000;
  progress.update(10e6);
  progress.done();
  assert.deepEqual(out.written, [
    'saving to s3://b/k [############............] 50% 4.8 MiB at 976.6 KiB/s ETA 5s\n',
    'saving to s3://b/k: 9.5 MiB at 976.6 KiB/s\n',
  ]);
});
