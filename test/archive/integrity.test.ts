// Every corrupt, cut or foreign input ends in an IntegrityError that names what failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { ArchiveReader, availableCodecs, type CodecName } from '../../src/archive/index.js';
import { IntegrityError } from '../../src/util/errors.js';
import { TAR_END, tarHeader, tarPadding } from '../../src/archive/tar.js';
import { compress, decompress, sha256, tarOf, untar } from './tar-helpers.js';
import { seededRandom } from '../support/random.js';
import { generateHistory, writeArchive } from './history.js';

const SEED = Number(process.env.STRATA_TEST_SEED ?? 20250102);

async function readAll(bytes: Buffer, label: string, options: { expectedSha256?: string; codec?: CodecName } = {}) {
  // As `snapshot verify` reads: MVCC checks and etcd's HashKV recomputed.
  const reader = await ArchiveReader.open([bytes], { label, checkMvcc: true, computeEtcdHash: true, ...options });
  return reader.finish();
}

async function expectIntegrityError(bytes: Buffer, label: string, why: string, options: { expectedSha256?: string; codec?: CodecName } = {}): Promise<string> {
  try {
    await readAll(bytes, label, options);
  } catch (err) {
    assert.ok(err instanceof IntegrityError, `${why}: expected an IntegrityError, got ${(err as Error).stack}`);
    assert.match(err.message, new RegExp(`^Cannot read snapshot '${label}': \\S`), why);
    assert.doesNotMatch(err.message, /\n/, `${why}: the message is one line`);
    return err.message;
  }
  assert.fail(`${why}: the reader accepted it`);
}

/** A small archive with hard-to-compress values, so that the zstd layer has real blocks. */
async function smallArchive(codec?: CodecName) {
  const history = generateHistory(SEED, { revisions: 1200, keys: 300, valueBytes: 40, compactAt: 0.25, leases: 20 });
  const random = seededRandom(SEED + 1);
  for (const r of history.records) {
    if (!r.tombstone) r.kv.value = Buffer.from(Array.from({ length: 160 }, () => Math.floor(random() * 256)));
  }
  return writeArchive(history, { chunkBytes: 32 * 1024, ...(codec === undefined ? {} : { codec }) });
}

/**
 * Flips one byte at `count` seeded offsets and reads each copy back. Returns how often each
 * kind of failure was reported.
 */
async function flipBytes(bytes: Buffer, sha256: string, seed: number, count: number, codec: CodecName | undefined): Promise<Map<string, number>> {
  const random = seededRandom(seed);
  const failures = new Map<string, number>();
  let caughtOnlyBySidecar = 0;
  const options = codec === undefined ? {} : { codec };
  for (let i = 0; i < count; i++) {
    const offset = Math.floor(random() * bytes.length);
    const corrupt = Buffer.from(bytes);
    corrupt[offset]! ^= 1 + Math.floor(random() * 255);
    const why = `seed ${seed}, flip at ${offset} of ${bytes.length}, read with ${codec ?? 'the default codec'}`;
    let message: string;
    try {
      await readAll(corrupt, 'flip', options);
      // Only a framing byte whose change leaves every decoded byte the same can pass the
      // archive's own checks; the whole-file SHA-256 beside the archive catches it.
      caughtOnlyBySidecar++;
      message = await expectIntegrityError(corrupt, 'flip', why, { ...options, expectedSha256: sha256 });
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw new Error(`${why}: ${(err as Error).stack}`);
      message = err.message;
    }
    assert.match(message, /^Cannot read snapshot 'flip': \S/, why);
    const kind = message.replace(/^Cannot read snapshot 'flip': /, '').replace(/\d+/g, 'N').replace(/[0-9a-f]{64}/g, 'H').slice(0, 50);
    failures.set(kind, (failures.get(kind) ?? 0) + 1);
  }
  assert.ok(caughtOnlyBySidecar <= 2, `seed ${seed}: ${caughtOnlyBySidecar} flips were invisible without the sidecar`);
  return failures;
}

test(`flipping any single byte is caught (seed ${SEED})`, async () => {
  const { bytes, summary } = await smallArchive();
  assert.ok(bytes.length > 100_000, `archive is ${bytes.length} bytes`);
  await flipBytes(bytes, summary.sha256, SEED, 220, undefined);
});

test(`without zstd's own checksum the archive's checks catch every flip (seed ${SEED})`, async (t) => {
  if (!availableCodecs().includes('zstd-codec') || !availableCodecs().includes('zstd-napi')) {
    t.skip('needs both zstd-napi and zstd-codec');
    return;
  }
  // zstd-codec writes frames without a content checksum: every detection here is the archive's.
  const { bytes, summary } = await smallArchive('zstd-codec');
  const failures = await flipBytes(bytes, summary.sha256, SEED + 10, 220, 'zstd-napi');
  assert.ok(failures.size >= 3, `seed ${SEED}: only ${[...failures.keys()].join(' | ')}`);
  await flipBytes(bytes, summary.sha256, SEED + 11, 20, 'zstd-codec');
});

test(`cutting the archive anywhere is caught, whichever codec reads it (seed ${SEED})`, async () => {
  const { bytes } = await smallArchive();
  const random = seededRandom(SEED + 2);
  const cuts = [0, 1, 4, 5, 100, bytes.length - 4, bytes.length - 1];
  while (cuts.length < 60) cuts.push(Math.floor(random() * bytes.length));
  for (const codec of availableCodecs()) {
    for (const length of cuts) {
      const message = await expectIntegrityError(bytes.subarray(0, length), 'cut', `seed ${SEED}, cut at ${length} of ${bytes.length}, ${codec}`, { codec });
      if (length > 0) assert.match(message, /truncated|not a zstd stream/, `cut at ${length} (${codec}): ${message}`);
    }
  }
});

test('foreign files are refused with a message that says what they are', async () => {
  const random = seededRandom(SEED + 3);
  const noise = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(random() * 256)));
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /not a zstd stream \(the file is empty\)/],
    ['noise', noise, /not a zstd stream/],
    ['gzip', gzipSync(Buffer.from('hello')), /not a zstd stream \(it is gzip\)/],
    ['tar', Buffer.concat([tarHeader('manifest.json', 2, 0), Buffer.from('{}'), tarPadding(2), TAR_END]), /not a zstd stream/],
    ['zstd-text', await compress(Buffer.from('just some text, not a tar stream at all'.repeat(40))), /manifest is missing/],
    ['zstd-other-tar', await compress(Buffer.concat([tarHeader('etc/passwd', 3, 0), Buffer.from('abc'), tarPadding(3), TAR_END])), /manifest is missing \(the first entry is etc\/passwd\)/],
    ['zstd-empty-tar', await compress(TAR_END), /manifest is missing \(the tar stream is empty\)/],
  ];
  for (const [label, bytes, pattern] of cases) {
    const message = await expectIntegrityError(bytes, label, label);
    assert.match(message, pattern, label);
  }
});

test('an unknown major version is refused; a newer minor version with unknown parts is read', async () => {
  const manifest = (version: string, extra: object = {}) =>
    Buffer.from(`${JSON.stringify({ format: 'strata-archive', formatVersion: version, somethingNew: true, ...extra })}\n`);
  const v2 = await compress(tarOf([['manifest.json', manifest('2.0')]]));
  const message = await expectIntegrityError(v2, 'v2.tar.zst', 'major 2');
  assert.match(message, /^Cannot read snapshot 'v2.tar.zst': unsupported format version 2\.0 \(/);

  const foreign = await compress(tarOf([['manifest.json', Buffer.from('{"format":"other","formatVersion":"1.0"}')]]));
  assert.match(await expectIntegrityError(foreign, 'other', 'other format'), /not a Strata archive/);

  // Rebuild a real archive as a writer of version 1.9 might: an extra manifest field and an
  // extra entry, listed in the trailer.
  const history = generateHistory(SEED, { revisions: 50, keys: 10, valueBytes: 8, compactAt: 0, leases: 1 });
  const { bytes } = await writeArchive(history);
  const entries = untar(await decompress(bytes));
  const m = JSON.parse(entries.get('manifest.json')!.toString()) as Record<string, unknown>;
  const newManifest = Buffer.from(`${JSON.stringify({ ...m, formatVersion: '1.9', futureField: { a: 1 } }, null, 2)}\n`);
  const extra = Buffer.from('a later minor version wrote this');
  const trailer = JSON.parse(entries.get('trailer.json')!.toString()) as { entries: Record<string, string> };
  const newEntries: Record<string, string> = {};
  for (const [name, digest] of Object.entries(trailer.entries)) {
    newEntries[name] = name === 'manifest.json' ? sha256(newManifest) : digest;
    if (name === 'manifest.json') newEntries['extra/notes.txt'] = sha256(extra);
  }
  const rebuilt: [string, Buffer][] = [];
  for (const [name, data] of entries) {
    if (name === 'manifest.json') rebuilt.push([name, newManifest], ['extra/notes.txt', extra]);
    else if (name === 'trailer.json') rebuilt.push([name, Buffer.from(`${JSON.stringify({ ...trailer, entries: newEntries }, null, 2)}\n`)]);
    else rebuilt.push([name, data]);
  }
  const result = await readAll(await compress(tarOf(rebuilt)), 'v1.9');
  assert.equal(result.manifest.formatVersion, '1.9');
  assert.equal(result.trailer.recordCount, history.records.length);
});

test("a trailer whose etcd HashKV was changed is caught by a reader that recomputes it, and taken by one that does not", async () => {
  const history = generateHistory(SEED, { revisions: 3000, keys: 300, valueBytes: 16, compactAt: 0.5, leases: 0 });
  const { bytes } = await writeArchive(history);
  const entries = untar(await decompress(bytes));
  const trailer = JSON.parse(entries.get('trailer.json')!.toString()) as { hashKV: { etcdHash: number } };
  const wrong = (trailer.hashKV.etcdHash + 1) % 2 ** 32;
  const changed = { ...trailer, hashKV: { ...trailer.hashKV, etcdHash: wrong } };
  const rebuilt = [...entries].map(([name, data]): [string, Buffer] => [name, name === 'trailer.json' ? Buffer.from(`${JSON.stringify(changed, null, 2)}\n`) : data]);
  const archive = await compress(tarOf(rebuilt));
  const message = await expectIntegrityError(archive, 'etcd-hash', 'etcdHash changed');
  assert.match(message, new RegExp(`: trailer hashKV.etcdHash is ${wrong} but the records give ${trailer.hashKV.etcdHash}$`));
  // Without recomputing (restore, or status of a format 1.1 archive) the trailer's value is reported as it is.
  const trusting = await ArchiveReader.open([archive], { label: 'etcd-hash' });
  assert.equal((await trusting.finish()).etcdHashKV, wrong);
});
