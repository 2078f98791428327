// Bad input to `snapshot save`: one line on stderr, a documented exit code, nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, runStrata, tempDir } from '../support/index.js';

// A save gets to the archive writer only after the whole transfer, minutes for a large etcd:
// the level is checked before anything else.
test('snapshot save refuses a zstd level outside 1..19 with one line and exit 2, before it connects', async () => {
  const dir = tempDir('save-flags');
  try {
    // Nothing listens here: a save that got as far as connecting would fail with exit 1 instead.
    const dead = `127.0.0.1:${await freePort()}`;
    const dest = join(dir.path, 'x.tar.zst');
    for (const level of ['0', '20', '30', '-1', '1.5', 'fast']) {
      const result = await runStrata(['snapshot', 'save', dest, '--endpoints', dead, '--level', level]);
      const lines = result.stderr.split('\n').filter((l) => l !== '');
      assert.deepEqual(lines, [`Error: Invalid --level '${level}': use a zstd level from 1 to 19`], `--level ${level}`);
      assert.equal(result.code, 2, `--level ${level}: exit code`);
      assert.equal(existsSync(dest), false);
    }
  } finally {
    dir.remove();
  }
});

test('snapshot save from endpoints that do not answer: one line naming each once, exit 1', async () => {
  const dir = tempDir('save-dead');
  try {
    const a = `127.0.0.1:${await freePort()}`;
    let b = a;
    while (b === a) b = `127.0.0.1:${await freePort()}`;
    const dest = join(dir.path, 'x.tar.zst');
    const refused = (endpoint: string): string => `Cannot connect to etcd at ${endpoint}: connection refused; check --endpoints and that the server is running`;
    const one = await runStrata(['snapshot', 'save', dest, '--endpoints', a]);
    assert.deepEqual(one.stderr.split('\n').filter((l) => l !== ''), [`Error: ${refused(a)}`]);
    assert.equal(one.code, 1);
    const two = await runStrata(['snapshot', 'save', dest, '--endpoints', `${a},${b}`]);
    assert.deepEqual(two.stderr.split('\n').filter((l) => l !== ''), [`Error: No endpoint answered: ${refused(a)}; ${refused(b)}`]);
    assert.equal(two.code, 1);
    assert.equal(existsSync(dest), false);
  } finally {
    dir.remove();
  }
});
