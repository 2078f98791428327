import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { LocalStore } from '../../../src/snapshot/stores/local-store.js';
import { openStore } from '../../../src/snapshot/stores/open-store.js';
import { snapshotName } from '../../../src/snapshot/stores/snapshot-name.js';
import { tempDir } from '../../support/index.js';

const sha = 'ab'.repeat(32);

async function writeThrough(store: LocalStore, name: string, data: Buffer): Promise<string> {
  const writer = await store.createWriter(name);
  await pipeline(Readable.from([data]), writer.stream);
  return writer.commit(sha);
}

test('a directory store writes <name>.part 0600, then the final name and a sha256sum sidecar', async (t) => {
  const dir = tempDir('local-store', t).path;
  const store = await LocalStore.at(dir);
  const name = snapshotName('cdf818194e3a8c32', new Date('2026-01-02T03:04:05.678Z'), 120);
  assert.equal(name, 'cdf818194e3a8c32-20260102T030405Z-r120.tar.zst');
  const writer = await store.createWriter(name);
  // The write's callback comes once the bytes are in the file, so the file is open by then.
  await new Promise<void>((resolve, reject) => writer.stream.write(Buffer.from('partial'), (err) => (err ? reject(err) : resolve())));
  assert.deepEqual(readdirSync(dir), [`${name}.part`]);
  assert.equal(statSync(join(dir, `${name}.part`)).mode & 0o777, 0o600);
  writer.stream.end(Buffer.from(' and the rest'));
  await new Promise((resolve) => writer.stream.once('finish', resolve));
  const location = await writer.commit(sha);
  assert.equal(location, join(dir, name));
  assert.deepEqual(readdirSync(dir).sort(), [name, `${name}.sha256`]);
  assert.equal(readFileSync(join(dir, `${name}.sha256`), 'utf8'), `${sha}  ${name}\n`);
  const listed = await store.list();
  assert.deepEqual(listed.map((s) => [s.name, s.sha256]), [[name, sha]]);
});

test('a commit before the stream finished is refused and leaves nothing that looks complete', async (t) => {
  const dir = tempDir('local-store', t).path;
  const store = await LocalStore.at(dir);
  const writer = await store.createWriter('early.tar.zst');
  await new Promise<void>((resolve, reject) => writer.stream.write(Buffer.from('partial'), (err) => (err ? reject(err) : resolve())));
  await assert.rejects(writer.commit(sha), { code: 'STRATA_STORE_ORDER' });
  assert.deepEqual(readdirSync(dir), []);
});

test('ls lists newest first by the time in the name', async (t) => {
  const dir = tempDir('local-store-ls', t).path;
  const store = await LocalStore.at(`${dir}/`);
  const older = snapshotName('c1', new Date('2026-01-01T00:00:00Z'), 5);
  const newer = snapshotName('c1', new Date('2026-02-01T00:00:00Z'), 9);
  await writeThrough(store, older, Buffer.from('a'));
  await writeThrough(store, newer, Buffer.from('b'));
  assert.deepEqual((await store.list()).map((s) => s.name), [newer, older]);
});

test('abort removes the part file; a failed rename (NFS EXDEV/ESTALE) is one clear error and leaves nothing', async (t) => {
  const dir = tempDir('local-store-fail', t).path;
  const aborted = await (await LocalStore.at(dir)).createWriter('x.tar.zst');
  aborted.stream.write(Buffer.from('x'));
  await aborted.abort(new Error('source failed'));
  assert.deepEqual(readdirSync(dir), []);

  for (const code of ['EXDEV', 'ESTALE']) {
    const failing = await LocalStore.at(join(dir, 'y.tar.zst'), async () => {
      throw Object.assign(new Error(`${code}: rename failed`), { code });
    });
    await assert.rejects(writeThrough(failing, 'ignored', Buffer.from('y')), (err: Error) => {
      assert.match(err.message, new RegExp(`^Cannot write snapshot '.*y\\.tar\\.zst': .*(file systems|stale)`));
      return true;
    });
    assert.deepEqual(readdirSync(dir), [], code);
  }
});

test('openStore: paths, file:// URLs, - and bad schemes', async () => {
  assert.ok((await openStore('file:///tmp/x.tar.zst')) instanceof LocalStore);
  assert.equal((await openStore('-')).location, '-');
  await assert.rejects(openStore('ftp://host/x'), /Unsupported snapshot location/);
  await assert.rejects(openStore(''), /Missing snapshot location/);
});
