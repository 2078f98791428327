import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { SyncingFileStream } from '../../../src/snapshot/stores/syncing-file-stream.js';
import { seededBytes, seededRandom, tempDir } from '../../support/index.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

test('a stream past several sync intervals writes every byte in order, syncs as it goes, and closes its file', async (t) => {
  const seed = Number(process.env.STRATA_TEST_SEED ?? 0x5f5);
  const random = seededRandom(seed);
  const block = seededBytes(random, 1024 * 1024);
  // 100 MiB in pieces of varied sizes, each a different slice of the block.
  const pieces: Buffer[] = [];
  for (let total = 0; total < 100 * 1024 * 1024; ) {
    const size = 1 + Math.floor(random() * 256 * 1024);
    const at = Math.floor(random() * (block.length - size));
    pieces.push(block.subarray(at, at + size));
    total += size;
  }
  const expected = createHash('sha256');
  for (const piece of pieces) expected.update(piece);
  const path = join(tempDir('syncing-stream', t).path, 'out.part');
  const before = openFds();
  const stream = new SyncingFileStream(path, 0o600);
  await pipeline(Readable.from(pieces), stream);
  await new Promise((resolve) => (stream.closed ? resolve(undefined) : stream.once('close', resolve)));
  assert.equal(createHash('sha256').update(readFileSync(path)).digest('hex'), expected.digest('hex'), `seed ${seed}`);
  assert.equal(openFds(), before, 'the file is closed');
  // The first 32 MiB always start one, since none is running then.
  assert.ok(stream.backgroundSyncs >= 1, `${stream.backgroundSyncs} background syncs for 100 MiB`);
});

test('a stream destroyed while its file opens still closes it', async (t) => {
  const path = join(tempDir('syncing-stream', t).path, 'out.part');
  const before = openFds();
  const stream = new SyncingFileStream(path, 0o600);
  const failed = new Promise((resolve) => stream.once('error', resolve));
  stream.destroy(new Error('the save failed'));
  await new Promise((resolve) => stream.once('close', resolve));
  assert.equal(((await failed) as Error).message, 'the save failed');
  assert.equal(openFds(), before);
});

test('a stream whose file cannot be created fails with the file system error', async (t) => {
  const path = join(tempDir('syncing-stream', t).path, 'missing-dir', 'out.part');
  const stream = new SyncingFileStream(path, 0o600);
  await assert.rejects(pipeline(Readable.from([Buffer.from('x')]), stream), { code: 'ENOENT' });
});
