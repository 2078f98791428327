import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeInterruptedWork, scratchFile, SpillDirectory } from '../../src/util/temp-files.js';
import { LocalStore } from '../../src/snapshot/stores/local-store.js';
import { tempDir } from '../support/index.js';

test('what a command would leave on an interrupt is registered while it exists and removed by removeInterruptedWork', async (t) => {
  const dir = tempDir('interruptible', t);
  const spill = new SpillDirectory({ purpose: 'test', directory: dir.path }, 'strata-test-');
  writeFileSync(spill.file('a'), 'spilled');
  const scratch = scratchFile('strata-test', '.db');
  writeFileSync(scratch.path, 'spooled');
  const store = await LocalStore.at(`${dir.path}/`);
  const writer = await store.createWriter('x.tar.zst');
  await new Promise<void>((resolve, reject) => writer.stream.write(Buffer.from('archive'), (err) => (err ? reject(err) : resolve())));
  assert.ok(existsSync(join(dir.path, 'x.tar.zst.part')));

  // The spill directory, the scratch file, the archive's part and its sidecar's part.
  assert.equal(removeInterruptedWork(), 4);
  assert.equal(existsSync(scratch.path), false);
  assert.deepEqual(readdirSync(dir.path), []);
  assert.equal(removeInterruptedWork(), 0);
  writer.stream.destroy();
});

test('paths are forgotten once their work removed them or committed', async (t) => {
  const dir = tempDir('forgotten', t);
  const spill = new SpillDirectory({ purpose: 'test', directory: dir.path }, 'strata-test-');
  writeFileSync(spill.file('a'), 'spilled');
  spill.remove();
  const scratch = scratchFile('strata-test', '.db');
  writeFileSync(scratch.path, 'spooled');
  await scratch.remove();
  const store = await LocalStore.at(join(dir.path, 'kept.tar.zst'));
  const writer = await store.createWriter('unused');
  writer.stream.end(Buffer.from('archive'));
  await new Promise((resolve) => writer.stream.once('finish', resolve));
  await writer.commit('0'.repeat(64));
  const aborted = await (await LocalStore.at(join(dir.path, 'aborted.tar.zst'))).createWriter('unused');
  await aborted.abort();

  assert.equal(removeInterruptedWork(), 0);
  assert.deepEqual(readdirSync(dir.path).sort(), ['kept.tar.zst', 'kept.tar.zst.sha256']);
});
