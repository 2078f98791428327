import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RECORD_HEADER_BYTES, SEGMENT_MAGIC } from '../../../src/server/wal/record.js';
import { Wal } from '../../../src/server/wal/wal.js';
import { WalCorruptError } from '../../../src/server/wal/errors.js';
import { makeEntry, normalize, recordingLogger, replayAll } from './helpers.js';
import { tempDir } from '../../support/tmp.js';

const META = Buffer.from('cluster=1 member=2');
const HARD_STATE = { term: 1, vote: 7n, commit: 4 };
const ENTRY_DATA = 24;
const entryRecordBytes = RECORD_HEADER_BYTES + 17 + ENTRY_DATA;
const hardStateRecordBytes = RECORD_HEADER_BYTES + 24;
/** Bytes before the first entry of a fresh segment: magic, crc record, metadata record. */
const headerBytes = SEGMENT_MAGIC.length + RECORD_HEADER_BYTES + 4 + RECORD_HEADER_BYTES + META.length;

async function onlySegment(walDir: string): Promise<string> {
  const files = (await readdir(walDir)).filter((n) => n.endsWith('.wal'));
  assert.equal(files.length, 1);
  return join(walDir, files[0]!);
}

async function copyWal(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await mkdir(to);
  for (const name of await readdir(from)) await copyFile(join(from, name), join(to, name));
}

test('torn tail: a cut at every byte of the last write (and zeroes after it) is repaired to the records before it', async (t) => {
  const dir = tempDir('wal-torn', t).path;
  const template = join(dir, 'template');
  const wal = await Wal.create(template, META);
  for (let i = 1; i <= 4; i++) await wal.append([makeEntry(i, 1, ENTRY_DATA)], i === 4 ? HARD_STATE : undefined);
  const segment = await onlySegment(template);
  const lastStart = (await stat(segment)).size;
  // The last write: entry 5 and a hard state, framed together.
  const lastHardState = { term: 1, vote: 7n, commit: 5 };
  await wal.append([makeEntry(5, 1, ENTRY_DATA)], lastHardState);
  await wal.close();
  const end = (await stat(segment)).size;
  const original = await readFile(segment);
  assert.equal(end - lastStart, entryRecordBytes + hardStateRecordBytes);
  const before = Array.from({ length: 4 }, (_, i) => makeEntry(i + 1, 1, ENTRY_DATA));

  const work = join(dir, 'work');
  for (const zeroes of [false, true]) {
    for (let cut = lastStart; cut < end; cut++) {
      const what = `cut at byte ${cut} (last write ${lastStart}..${end})${zeroes ? ' + zeroes' : ''}`;
      await copyWal(template, work);
      const file = join(work, segment.split('/').at(-1)!);
      const handle = await open(file, 'r+');
      await handle.truncate(cut);
      if (zeroes) await handle.write(Buffer.alloc(end - cut + 100), 0, end - cut + 100, cut);
      await handle.close();

      const logger = recordingLogger();
      const { wal: repaired, replay } = await Wal.open(work, { logger });
      // Zeroes written over bytes that were zero already give the record back whole.
      const whole = (recordEnd: number): boolean =>
        cut >= recordEnd || (zeroes && original.subarray(cut, recordEnd).every((b) => b === 0));
      const entryWhole = whole(lastStart + entryRecordBytes);
      const hardStateWhole = entryWhole && whole(end);
      const expected = entryWhole ? [...before, makeEntry(5, 1, ENTRY_DATA)] : before;
      assert.deepEqual(normalize(await replayAll(replay)), normalize(expected), what);
      assert.deepEqual(replay.hardState, hardStateWhole ? lastHardState : HARD_STATE, what);
      const tornAt = hardStateWhole ? end : entryWhole ? lastStart + entryRecordBytes : lastStart;
      const warned = logger.lines.some((l) => l.level === 'warn' && l.fields['offset'] === tornAt);
      assert.equal(warned, zeroes || cut !== tornAt, `${what}: warning about a torn write at ${tornAt}`);
      assert.equal((await stat(file)).size, tornAt, `${what}: truncated to the last whole record`);

      const next = entryWhole ? 6 : 5;
      await repaired.append([makeEntry(next, 2, ENTRY_DATA)]);
      await repaired.close();
      const again = await Wal.open(work);
      assert.deepEqual(normalize(await replayAll(again.replay)), normalize([...expected, makeEntry(next, 2, ENTRY_DATA)]), what);
      await again.wal.close();
    }
  }
});

async function expectCorrupt(walDir: string, file: string, offset: number, reason: RegExp, what: string): Promise<void> {
  await assert.rejects(
    Wal.open(walDir),
    (err: unknown) => {
      assert.ok(err instanceof WalCorruptError, `${what}: ${String(err)}`);
      assert.equal(err.file, file, what);
      assert.equal(err.offset, offset, what);
      assert.match(err.message, reason, what);
      assert.match(err.message, /^WAL segment '.+\.wal' is corrupt at byte \d+: .+; restore from a snapshot or move the data dir aside$/);
      return true;
    },
    what,
  );
}

test('corruption in the middle: any flipped byte of an earlier record refuses to open, naming file and offset', async (t) => {
  const dir = tempDir('wal-corrupt', t).path;
  const template = join(dir, 'template');
  const wal = await Wal.create(template, META);
  for (let i = 1; i <= 10; i++) await wal.append([makeEntry(i, 1, ENTRY_DATA)]);
  await wal.close();
  const name = (await onlySegment(template)).split('/').at(-1)!;
  const third = headerBytes + 2 * entryRecordBytes;
  const work = join(dir, 'work');
  for (let at = third; at < third + entryRecordBytes; at++) {
    await copyWal(template, work);
    const file = join(work, name);
    const bytes = await readFile(file);
    bytes[at] = bytes[at]! ^ 0x41;
    await writeFile(file, bytes);
    const lengthField = at < third + 8;
    await expectCorrupt(work, file, third, lengthField ? /bad record length/ : /CRC mismatch|unknown record type/, `byte ${at} flipped`);
  }
});

test('corruption at the end of a non-last segment refuses to open', async (t) => {
  const dir = tempDir('wal-corrupt', t).path;
  const walDir = join(dir, 'wal');
  const wal = await Wal.create(walDir, META, { segmentBytes: 512 });
  for (let i = 1; i <= 40; i++) await wal.append([makeEntry(i, 1, ENTRY_DATA)]);
  await wal.close();
  const files = (await readdir(walDir)).filter((n) => n.endsWith('.wal')).sort();
  assert.ok(files.length >= 3);
  const first = join(walDir, files[0]!);
  const bytes = await readFile(first);
  const lastRecord = bytes.length - entryRecordBytes;
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
  await writeFile(first, bytes);
  await expectCorrupt(walDir, first, lastRecord, /CRC mismatch/, 'last record of the first segment');
});

test('a segment swapped in from another WAL breaks the CRC chain; a missing segment is named', async (t) => {
  const dir = tempDir('wal-swap', t).path;
  const dirs = [join(dir, 'a'), join(dir, 'b')];
  for (const [k, walDir] of dirs.entries()) {
    const wal = await Wal.create(walDir, META, { segmentBytes: 512 });
    for (let i = 1; i <= 40; i++) await wal.append([makeEntry(i, 1 + k, ENTRY_DATA)]);
    await wal.close();
  }
  const [a, b] = dirs as [string, string];
  const filesA = (await readdir(a)).filter((n) => n.endsWith('.wal')).sort();
  const filesB = (await readdir(b)).filter((n) => n.endsWith('.wal')).sort();
  assert.equal(filesA[1], filesB[1], 'both WALs cut at the same indexes');
  await copyFile(join(b, filesB[1]!), join(a, filesA[1]!));
  await expectCorrupt(a, join(a, filesA[1]!), SEGMENT_MAGIC.length, /CRC chain broken/, 'swapped segment');

  await rename(join(b, filesB[1]!), join(dir, 'aside.wal'));
  await expectCorrupt(b, join(b, filesB[2]!), 0, /segment 1 is missing/, 'missing segment');
});

test('Wal.read leaves a torn tail on disk and returns the records before it', async (t) => {
  const dir = tempDir('wal-read', t).path;
  const walDir = join(dir, 'wal');
  const wal = await Wal.create(walDir, META);
  await wal.append([makeEntry(1, 1, ENTRY_DATA), makeEntry(2, 1, ENTRY_DATA)]);
  await wal.close();
  const segment = await onlySegment(walDir);
  const size = (await stat(segment)).size;
  const handle = await open(segment, 'r+');
  await handle.truncate(size - 3);
  await handle.close();
  const replay = await Wal.read(walDir);
  assert.deepEqual(normalize(await replayAll(replay)), normalize([makeEntry(1, 1, ENTRY_DATA)]));
  assert.equal((await stat(segment)).size, size - 3, 'read-only: nothing truncated');
});
