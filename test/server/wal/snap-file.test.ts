import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadNewestSnapFile, saveSnapFile, snapFileName } from '../../../src/server/wal/snap-file.js';
import { recordingLogger } from './helpers.js';
import { tempDir } from '../../support/tmp.js';

test('snapshot files round-trip, leave no temp file, and the newest one is loaded', async (t) => {
  const dir = tempDir('snap', t).path;
  await saveSnapFile(dir, { term: 1, index: 100, data: Buffer.from('conf-a') });
  const path = await saveSnapFile(dir, { term: 2, index: 250, data: Buffer.from('conf-b') });
  assert.equal(path, join(dir, '0000000000000002-00000000000000fa.snap'));
  await writeFile(join(dir, 'db.sqlite'), 'not a snapshot file');
  assert.deepEqual((await readdir(dir)).sort(), ['0000000000000001-0000000000000064.snap', '0000000000000002-00000000000000fa.snap', 'db.sqlite']);
  const newest = await loadNewestSnapFile(dir);
  assert.deepEqual(newest, { term: 2, index: 250, data: Buffer.from('conf-b') });
  const older = await loadNewestSnapFile(dir, { accept: (_term, index) => index <= 200 });
  assert.deepEqual(older, { term: 1, index: 100, data: Buffer.from('conf-a') });
});

test('a corrupt newest snapshot file is skipped with a warning and set aside as .broken', async (t) => {
  const dir = tempDir('snap', t).path;
  await saveSnapFile(dir, { term: 1, index: 100, data: Buffer.from('good') });
  const bad = await saveSnapFile(dir, { term: 1, index: 200, data: Buffer.from('flipped') });
  const bytes = await readFile(bad);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
  await writeFile(bad, bytes);
  // A file whose content does not match its name is as bad as a CRC failure.
  const good = await readFile(join(dir, snapFileName(1, 100)));
  await writeFile(join(dir, snapFileName(1, 300)), good);
  const logger = recordingLogger();
  assert.deepEqual(await loadNewestSnapFile(dir, { logger }), { term: 1, index: 100, data: Buffer.from('good') });
  const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.fields['reason']);
  assert.deepEqual(warnings, ['holds term 1 index 100, unlike its name', 'CRC mismatch']);
  assert.ok((await readdir(dir)).includes(`${snapFileName(1, 200)}.broken`));
});

test('an empty snap dir has no snapshot', async (t) => {
  const dir = tempDir('snap', t).path;
  assert.equal(await loadNewestSnapFile(dir), undefined);
});
