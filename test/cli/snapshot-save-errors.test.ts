// Bad input to `snapshot save`: one line on stderr, a documented exit code, nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, runStrata, tempDir } from '../support/index.js';
import { s3rverCredentials, startS3rver } from '../support/s3rver.js';

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

// The destination is checked before the source is read: a save from a large etcd would
// otherwise transfer and spool the whole image before saying where it cannot write.
test('snapshot save to a destination it cannot write fails before it connects: one line, nothing written', async (t) => {
  const dir = tempDir('save-dest');
  t.after(() => dir.remove());
  const dead = `127.0.0.1:${await freePort()}`;
  const lines = (result: { stderr: string }): string[] => result.stderr.split('\n').filter((l) => l !== '');
  const missing = join(dir.path, 'missing');
  for (const dest of [join(missing, 'x.tar.zst'), `${missing}/`]) {
    const result = await runStrata(['snapshot', 'save', dest, '--endpoints', dead]);
    const where = dest.endsWith('/') ? dest : missing;
    assert.deepEqual(lines(result), [`Error: Cannot write snapshot to '${where}': no such file or directory; check the path`], dest);
    assert.equal(result.code, 1, dest);
  }
  const file = join(dir.path, 'file');
  writeFileSync(file, 'not a directory');
  const underFile = await runStrata(['snapshot', 'save', join(file, 'x.tar.zst'), '--endpoints', dead]);
  assert.deepEqual(lines(underFile), [`Error: Cannot write snapshot '${join(file, 'x.tar.zst')}': '${file}' is not a directory`]);
  assert.equal(underFile.code, 2);

  const s3 = await startS3rver(t, ['snaps']);
  const s3Save = (url: string, env: NodeJS.ProcessEnv) => runStrata(['snapshot', 'save', url, '--endpoints', dead, '--s3-endpoint', s3.endpoint], { env });
  const noBucket = await s3Save('s3://nobucket/p/', { ...s3rverCredentials });
  assert.deepEqual(lines(noBucket), ["Error: Cannot write s3://nobucket/p/: bucket 'nobucket' does not exist; create it or check the URL"]);
  assert.equal(noBucket.code, 1);
  const denied = await s3Save('s3://snaps/p/', { AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: 'x' });
  assert.deepEqual(lines(denied), ['Error: Cannot write s3://snaps/p/: access denied (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID/AWS_PROFILE and the bucket policy']);
  assert.equal(denied.code, 1);
  assert.equal(existsSync(missing), false);
});
