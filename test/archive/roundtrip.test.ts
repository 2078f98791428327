// Archives read back exactly what was written, with the trailer's counts and etcd's HashKV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeKeyValue } from '../../src/api/mvccpb.js';
import { ArchiveReader, ArchiveWriter, formatSidecar, parseSidecar, type ReadRecord } from '../../src/archive/index.js';
import { StrataError } from '../../src/util/errors.js';
import { generateHistory, manifestFor, writeArchive, type History } from './history.js';
import { compress, decompress, tarOf, untar } from './tar-helpers.js';
import { referenceEtcdHashKv, referenceHashKv } from '../support/hashkv-reference.js';

const SEED = Number(process.env.STRATA_TEST_SEED ?? 7);

/** The trailer's hashKV built the plain way: the history hash, and etcd's HashKV at the revision. */
function expectedHashKv(history: History): { hash: number; etcdHash: number; revision: number; compactRevision: number } {
  const records = history.records.map((r) => ({ ...r, key: r.kv.key, value: encodeKeyValue(r.kv) }));
  return {
    hash: referenceHashKv(records),
    etcdHash: referenceEtcdHashKv(records, history.compactRevision),
    revision: history.revision,
    compactRevision: history.compactRevision,
  };
}

test(`a 50k-record history round-trips exactly (seed ${SEED})`, async () => {
  const history = generateHistory(SEED, { revisions: 45_000, keys: 8_000, valueBytes: 64, compactAt: 0.3, leases: 500 });
  assert.ok(history.records.length >= 50_000, `seed ${SEED}: only ${history.records.length} records`);
  assert.ok(history.records.some((r) => r.tombstone) && history.records.some((r) => r.kv.lease !== 0n));
  const { bytes, summary } = await writeArchive(history, { chunkBytes: 256 * 1024 });

  const reader = await ArchiveReader.open([bytes], { label: 'roundtrip', checkMvcc: true, computeEtcdHash: true, expectedSha256: summary.sha256 });
  assert.deepEqual(reader.manifest, summary.manifest);
  const read: ReadRecord[] = [];
  for await (const record of reader.records()) read.push(record);
  const leases = [];
  for await (const lease of reader.leases()) leases.push(lease);
  const result = await reader.finish();

  assert.equal(read.length, history.records.length, `seed ${SEED}`);
  read.forEach((got, i) => {
    const want = history.records[i]!;
    const where = `seed ${SEED}, record ${i} (${want.main}_${want.sub})`;
    assert.deepEqual({ main: got.main, sub: got.sub, tombstone: got.tombstone, kv: got.kv }, { main: want.main, sub: want.sub, tombstone: want.tombstone, kv: want.kv }, where);
    assert.ok(got.kvBytes.equals(encodeKeyValue(want.kv)), where);
  });
  assert.deepEqual(leases, history.leases);
  assert.deepEqual(result.trailer, summary.trailer);
  assert.equal(result.sha256, summary.sha256);
  assert.equal(result.bytes, bytes.length);
  assert.equal(result.mvccChecked, true);
  assert.equal(result.trailer.recordCount, history.records.length);
  assert.equal(result.trailer.keyCount, history.liveKeys);
  assert.equal(result.trailer.leaseCount, history.leases.length);
  const hashKV = expectedHashKv(history);
  assert.deepEqual(result.trailer.hashKV, hashKV);
  assert.notEqual(hashKV.etcdHash, hashKV.hash, 'keys kept by the compaction were written again');
  assert.equal(result.etcdHashKV, hashKV.etcdHash, 'recomputed by the reader');
  assert.ok(Object.keys(result.trailer.entries).filter((n) => n.startsWith('records/')).length > 10, 'records are chunked');
});

test('status can stop after the manifest, and the input is released', async () => {
  const history = generateHistory(SEED, { revisions: 2000, keys: 100, valueBytes: 500, compactAt: 0, leases: 0 });
  const { bytes } = await writeArchive(history);
  const dir = mkdtempSync(join(tmpdir(), 'strata-archive-'));
  try {
    const path = join(dir, 'a.tar.zst');
    writeFileSync(path, bytes);
    const input = createReadStream(path, { highWaterMark: 4096 });
    const reader = await ArchiveReader.open(input, { label: path });
    assert.equal(reader.manifest.revision, 2000);
    assert.equal(reader.manifest.source.clusterId, 'cdf818194e3a8c32');
    reader.close();
    if (!input.closed) await new Promise<void>((resolve) => input.once('close', () => resolve()));
    assert.ok(input.destroyed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that stops reading records early still verifies everything in finish()', async () => {
  const history = generateHistory(SEED, { revisions: 5000, keys: 300, valueBytes: 32, compactAt: 0.5, leases: 3 });
  const { bytes, summary } = await writeArchive(history, { chunkBytes: 16 * 1024 });
  const reader = await ArchiveReader.open([bytes], { checkMvcc: true });
  let seen = 0;
  for await (const _ of reader.records()) if (++seen === 10) break;
  const result = await reader.finish();
  assert.equal(result.trailer.recordCount, history.records.length);
  assert.equal(result.sha256, summary.sha256);
});

test('auth data and a latest-only snapshot round-trip', async () => {
  const history = generateHistory(SEED, { revisions: 300, keys: 50, valueBytes: 16, compactAt: 0, leases: 2 });
  // A latest-only snapshot: the newest put of every live key, with sub revisions numbered per main revision.
  const newest = new Map<string, (typeof history.records)[number]>();
  for (const r of history.records) {
    const id = r.kv.key.toString('latin1');
    if (r.tombstone) newest.delete(id);
    else newest.set(id, r);
  }
  const latest = [...newest.values()].sort((a, b) => a.main - b.main || a.sub - b.sub);
  const writer = new ArchiveWriter({ manifest: { ...manifestFor(history), contents: 'latest', source: { ...manifestFor(history).source, kind: 'range', prefix: '/registry/' } } });
  const collected: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of writer.output) collected.push(chunk as Buffer);
  })();
  for (const r of latest) await writer.writeRecord(r);
  for (const l of history.leases) await writer.writeLease(l);
  const auth = { enabled: true, revision: 9, users: [Buffer.from('user-a'), Buffer.from('user-b')], roles: [Buffer.from('role')] };
  await writer.writeAuth(auth);
  const summary = await writer.finish();
  await reading;
  assert.equal(summary.trailer.hashKV, null);
  assert.equal(summary.trailer.keyCount, latest.length);
  const reader = await ArchiveReader.open([Buffer.concat(collected)], { checkMvcc: true });
  assert.equal(reader.manifest.contents, 'latest');
  assert.equal(reader.manifest.source.prefix, '/registry/');
  const result = await reader.finish();
  assert.deepEqual(result.auth, auth);
  assert.equal(result.trailer.keyCount, newest.size);
});

test('the writer refuses records out of order, beyond the revision, or after leases', async () => {
  const history = generateHistory(SEED, { revisions: 20, keys: 5, valueBytes: 4, compactAt: 0, leases: 1 });
  const fresh = () => {
    const w = new ArchiveWriter({ manifest: manifestFor(history) });
    w.output.resume();
    return w;
  };
  const [first, second] = history.records as [ArchiveRecordLike, ArchiveRecordLike];
  let w = fresh();
  await w.writeRecord(second);
  assert.throws(() => w.writeRecord(first), (err: unknown) => err instanceof StrataError && err.code === 'STRATA_ARCHIVE_INPUT' && /strictly increase/.test(err.message));
  w.abort(new Error('test over'));
  w = fresh();
  assert.throws(() => w.writeRecord({ ...first, main: 21 }), /outside revisions 1\.\.20/);
  w.abort(new Error('test over'));
  w = fresh();
  await w.writeLease(history.leases[0]!);
  assert.throws(() => w.writeRecord(first), (err: unknown) => err instanceof StrataError && err.code === 'STRATA_ARCHIVE_ORDER');
  w.abort(new Error('test over'));
  assert.throws(() => new ArchiveWriter({ manifest: { ...manifestFor(history), compactRevision: 30 } }), /compactRevision 30 is above its revision 20/);
  assert.throws(() => new ArchiveWriter({ manifest: manifestFor(history), level: 25 }), /Invalid --level 25/);
});

type ArchiveRecordLike = History['records'][number];

test('an aborted writer ends its output with the error', async () => {
  const history = generateHistory(SEED, { revisions: 20, keys: 5, valueBytes: 4, compactAt: 0, leases: 0 });
  const writer = new ArchiveWriter({ manifest: manifestFor(history) });
  const reading = (async () => {
    for await (const _ of writer.output) {
      // consume
    }
  })();
  await writer.writeRecord(history.records[0]!);
  writer.abort(new Error('source went away'));
  await assert.rejects(reading, /source went away/);
  await assert.rejects(writer.finish(), /source went away/);
});

test('the sidecar is sha256sum format', () => {
  const digest = 'ab'.repeat(32);
  const text = formatSidecar(digest, '/backups/etcd-2025.tar.zst');
  assert.equal(text, `${digest}  etcd-2025.tar.zst\n`);
  assert.equal(parseSidecar(text), digest);
  assert.equal(parseSidecar(`${digest.toUpperCase()} *x.tar.zst`), digest);
  assert.equal(parseSidecar('not a digest  x'), undefined);
});

test('a failing input passes its own error through, not an integrity error', async () => {
  const history = generateHistory(SEED, { revisions: 500, keys: 50, valueBytes: 200, compactAt: 0, leases: 0 });
  const { bytes } = await writeArchive(history);
  const ioError = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  async function* failingSource() {
    yield bytes.subarray(0, 2000);
    throw ioError;
  }
  const attempt = ArchiveReader.open(failingSource()).then((reader) => reader.finish());
  await assert.rejects(attempt, (err: unknown) => err === ioError);
  await assert.rejects(ArchiveReader.open(createReadStream('/nonexistent/strata.tar.zst')), (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT');
});

test('skipToTrailer reads the trailer without decoding records, still checking every entry digest', async () => {
  const history = generateHistory(SEED, { revisions: 3000, keys: 300, valueBytes: 64, compactAt: 0.1, leases: 2 });
  const { bytes, summary } = await writeArchive(history, { chunkBytes: 32 * 1024 });
  const reader = await ArchiveReader.open([bytes], { expectedSha256: summary.sha256 });
  const quick = await reader.skipToTrailer();
  assert.deepEqual(quick.trailer, summary.trailer);
  assert.equal(quick.contentChecked, false);
  // A changed record chunk with a matching tar header still fails on its digest.
  const entries = untar(await decompress(bytes));
  const chunk = Buffer.from(entries.get('records/000001.pb')!);
  chunk[100]! ^= 1;
  entries.set('records/000001.pb', chunk);
  const corrupt = await compress(tarOf([...entries]));
  const attempt = ArchiveReader.open([corrupt], { label: 'c' }).then((r) => r.skipToTrailer());
  await assert.rejects(attempt, /^IntegrityError: Cannot read snapshot 'c': entry records\/000001.pb: SHA-256 mismatch$/);
});

test(`records larger than a chunk and its headroom round-trip, each closing its chunk (seed ${SEED})`, async () => {
  const history = generateHistory(SEED, { revisions: 40, keys: 10, valueBytes: 150_000, compactAt: 0, leases: 2 });
  const { bytes, summary } = await writeArchive(history, { chunkBytes: 16 * 1024 });
  const reader = await ArchiveReader.open([bytes], { checkMvcc: true, expectedSha256: summary.sha256 });
  const read: ReadRecord[] = [];
  for await (const record of reader.records()) read.push(record);
  const result = await reader.finish();
  assert.equal(read.length, history.records.length, `seed ${SEED}`);
  read.forEach((got, i) => assert.ok(got.kvBytes.equals(encodeKeyValue(history.records[i]!.kv)), `seed ${SEED}, record ${i}`));
  const chunks = Object.keys(result.trailer.entries).filter((n) => n.startsWith('records/')).length;
  assert.ok(chunks >= history.records.filter((r) => !r.tombstone).length, `seed ${SEED}: ${chunks} chunks`);
  assert.deepEqual(result.trailer.hashKV, expectedHashKv(history));
});
