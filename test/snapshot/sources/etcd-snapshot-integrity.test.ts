// Damaged etcd snapshot files: every flipped byte and every cut must end in an IntegrityError
// that names the file and the problem, never in wrong data or a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntegrityError, StrataError } from '../../../src/util/errors.js';
import { BboltDb } from '../../../src/snapshot/sources/bbolt/bbolt-db.js';
import { openEtcdSnapshot } from '../../../src/snapshot/sources/etcd-snapshot.js';
import { seededRandom, tempDir } from '../../support/index.js';
import { fixturePath } from './etcd-fixture.js';

const seed = Number(process.env['STRATA_TEST_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const original = readFileSync(fixturePath);
const PAGE = 4096;
const dbBytes = original.length - 32;

/** What `strata snapshot verify` does with an etcd file: open, read every revision, check every page, hash. */
async function readEverything(path: string): Promise<void> {
  const snapshot = await openEtcdSnapshot(path);
  try {
    for await (const revision of snapshot.revisions()) void revision;
    await snapshot.checkPages();
    await snapshot.fileStatus();
    await snapshot.hashKV();
  } finally {
    await snapshot.close();
  }
}

/** Runs readEverything on `bytes` and returns the IntegrityError's message; anything else fails the test. */
async function damageMessage(path: string, bytes: Buffer, what: string): Promise<string> {
  writeFileSync(path, bytes);
  try {
    await readEverything(path);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw new Error(`${what} (seed ${seed}): expected an IntegrityError, got ${String(err)}`, { cause: err });
    assert.ok(err.message.startsWith(`Cannot read etcd snapshot '${path}': `), `${what} (seed ${seed}): ${err.message}`);
    assert.ok(!err.message.includes('\n'), `${what} (seed ${seed}): one line: ${err.message}`);
    assert.equal(err.exitCode, 3);
    return err.message.slice(`Cannot read etcd snapshot '${path}': `.length);
  }
  return assert.fail(`${what} went undetected (seed ${seed})`);
}

function flipped(bytes: Buffer, offset: number, mask: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = copy[offset]! ^ mask;
  return copy;
}

test(`a byte flipped at any of 220 random offsets is detected (seed ${seed})`, async (t) => {
  const random = seededRandom(seed);
  const path = join(tempDir('etcd-flip', t).path, 'snapshot.db');
  const reasons = new Map<string, number>();
  for (let i = 0; i < 220; i++) {
    const offset = Math.floor(random() * original.length);
    const mask = 1 + Math.floor(random() * 255);
    const reason = await damageMessage(path, flipped(original, offset, mask), `flip 0x${mask.toString(16)} at byte ${offset}`);
    reasons.set(reason.replace(/[0-9a-f]{16}…/g, '…'), (reasons.get(reason) ?? 0) + 1);
  }
  // With the SHA-256 trailer present, it is what finds a flip anywhere in the file.
  assert.deepEqual([...reasons.keys()].map((r) => r.startsWith('its SHA-256 trailer does not match')), [true]);
});

test(`a cut at any of 60 random lengths is detected (seed ${seed})`, async (t) => {
  const random = seededRandom(seed + 1);
  const path = join(tempDir('etcd-cut', t).path, 'snapshot.db');
  const lengths = new Set<number>([0, 1, 100, PAGE, 2 * PAGE, dbBytes - 1, dbBytes + 1, original.length - 1]);
  while (lengths.size < 60) {
    const length = Math.floor(random() * original.length);
    // Cutting exactly the trailer off leaves a complete bbolt database: that is a valid member
    // db file, not damage (tested as such in etcd-snapshot.test.ts).
    if (length !== dbBytes) lengths.add(length);
  }
  for (const length of lengths) {
    const reason = await damageMessage(path, original.subarray(0, length), `cut at ${length} of ${original.length} bytes`);
    if (length === 0) assert.equal(reason, 'the file is empty');
  }
});

/**
 * Offsets of the bytes a reader can check without the SHA-256 trailer: both meta pages whole,
 * and in every node page the tree reaches, the header (id, flags, count) and each element's
 * position and sizes (but not a branch's child page id, which may land on an old copy of the
 * same node, nor the last element's value size, which only the trailer can vouch for).
 */
async function structuralOffsets(noTrailerPath: string): Promise<number[]> {
  const db = await BboltDb.open(noTrailerPath);
  try {
    const offsets: number[] = [];
    for (let b = 0; b < 2 * PAGE; b++) offsets.push(b);
    for (const id of (await db.check()).usedPages) {
      const at = id * PAGE;
      const flags = original.readUInt16LE(at + 8);
      if (original.readBigUInt64LE(at) !== BigInt(id) || (flags !== 1 && flags !== 2)) continue; // an overflow page
      for (let b = 0; b < 12; b++) offsets.push(at + b);
      const count = original.readUInt16LE(at + 10);
      for (let i = 0; i < count; i++) {
        const element = at + 16 + i * 16;
        const fields = flags === 1 ? [0, 4] : i === count - 1 ? [4, 8] : [4, 8, 12];
        for (const field of fields) for (let b = 0; b < 4; b++) offsets.push(element + field + b);
      }
    }
    return offsets;
  } finally {
    await db.close();
  }
}

test(`without the trailer, 300 random flips in meta pages, page headers and element headers are detected (seed ${seed})`, async (t) => {
  const random = seededRandom(seed + 2);
  const dir = tempDir('etcd-structure', t).path;
  const bare = original.subarray(0, dbBytes);
  const barePath = join(dir, 'db');
  writeFileSync(barePath, bare);
  const offsets = await structuralOffsets(barePath);
  const path = join(dir, 'damaged.db');
  for (let i = 0; i < 300; i++) {
    const offset = offsets[Math.floor(random() * offsets.length)]!;
    const mask = 1 + Math.floor(random() * 255);
    await damageMessage(path, flipped(bare, offset, mask), `no trailer: flip 0x${mask.toString(16)} at byte ${offset} (page ${Math.floor(offset / PAGE)})`);
  }
});

test('the message names the damaged structure', async (t) => {
  const dir = tempDir('etcd-named', t).path;
  const bare = original.subarray(0, dbBytes);
  const path = join(dir, 'db');
  assert.match(await damageMessage(path, flipped(bare, 16 + 40, 1), 'meta 0 pgid'), /^meta page 0 fails its checksum/);
  assert.match(await damageMessage(path, flipped(bare, PAGE + 20, 1), 'meta 1 version'), /^meta page 1 has format version 3/);
  assert.match(await damageMessage(path, flipped(bare, 16, 0xff), 'magic'), /not a bbolt database/);
  assert.match(await damageMessage(path, bare.subarray(0, 40 * PAGE), 'cut at a page boundary'), /needs \d+ bytes .* holds 163840: it is truncated/);
});

test('an empty file, a file that is not bbolt, a missing file', async (t) => {
  const dir = tempDir('etcd-foreign', t).path;
  const path = join(dir, 'x');
  assert.equal(await damageMessage(path, Buffer.alloc(0), 'empty'), 'the file is empty');
  const random = seededRandom(seed + 3);
  const noise = Buffer.from(Array.from({ length: 3 * PAGE }, () => Math.floor(random() * 256)));
  assert.match(await damageMessage(path, noise, 'noise'), /not a bbolt database/);
  assert.match(await damageMessage(path, Buffer.from('{"format":"strata"}\n'), 'json'), /too short for a meta page/);
  await assert.rejects(openEtcdSnapshot(join(dir, 'missing.db')), (err: unknown) => {
    assert.ok(err instanceof StrataError && !(err instanceof IntegrityError));
    assert.match(err.message, /^Cannot open etcd snapshot '.*missing\.db': .*no such file/);
    return true;
  });
});
