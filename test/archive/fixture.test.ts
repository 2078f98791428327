// The committed fixture archive still reads: the format has not drifted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeKeyValue } from '../../src/api/mvccpb.js';
import { ArchiveReader, parseSidecar } from '../../src/archive/index.js';
import { IntegrityError } from '../../src/util/errors.js';
import { fixtureHistory } from './make-fixture.js';
import { snapshotStatus, verifySnapshot } from '../../src/snapshot/inspect.js';
import { LocalStore } from '../../src/snapshot/stores/local-store.js';
import { referenceEtcdHashKv, referenceHashKv } from '../support/hashkv-reference.js';

function fixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!statSync(join(dir, 'package.json'), { throwIfNoEntry: false })) dir = dirname(dir);
  return join(dir, 'fixtures', 'archive');
}

const dir = fixturesDir();

test('fixtures/archive/small.tar.zst verifies against its sidecar and holds the seeded history', async () => {
  const path = join(dir, 'small.tar.zst');
  const sha256 = parseSidecar(readFileSync(`${path}.sha256`, 'utf8'));
  assert.ok(sha256 !== undefined);
  const reader = await ArchiveReader.open(createReadStream(path), { label: path, expectedSha256: sha256, checkMvcc: true });
  assert.equal(reader.manifest.formatVersion, '1.0');
  const history = fixtureHistory();
  let i = 0;
  for await (const record of reader.records()) {
    const want = history.records[i++]!;
    assert.deepEqual([record.main, record.sub, record.tombstone], [want.main, want.sub, want.tombstone]);
    assert.ok(record.kvBytes.equals(encodeKeyValue(want.kv)));
  }
  const result = await reader.finish();
  assert.equal(result.trailer.recordCount, history.records.length);
  const records = history.records.map((r) => ({ ...r, value: encodeKeyValue(r.kv) }));
  assert.equal(result.trailer.hashKV?.hash, referenceHashKv(records));
});

test('the format 1.0 fixture has no etcd HashKV in its trailer: status and verify compute it from the records', async () => {
  const path = join(dir, 'small.tar.zst');
  const history = fixtureHistory();
  assert.ok(history.compactRevision > 0);
  const records = history.records.map((r) => ({ ...r, key: r.kv.key, value: encodeKeyValue(r.kv) }));
  const etcdHash = referenceEtcdHashKv(records, history.compactRevision);
  assert.notEqual(etcdHash, referenceHashKv(records), 'a key kept by the compaction was written again');
  const reader = await ArchiveReader.open(createReadStream(path), { label: path });
  const trailer = (await reader.skipToTrailer()).trailer;
  assert.equal(trailer.hashKV?.etcdHash, undefined);
  assert.equal((await snapshotStatus(await LocalStore.at(path))).hashKV, etcdHash);
  assert.equal((await verifySnapshot(await LocalStore.at(path))).status.hashKV, etcdHash);
});

test('the corrupt fixture copies fail with exit-code-3 errors', async () => {
  for (const [name, pattern] of [
    ['small-truncated.tar.zst', /archive is truncated/],
    ['small-flipped.tar.zst', /zstd stream is corrupt|SHA-256 mismatch|entry /],
  ] as const) {
    const path = join(dir, name);
    const attempt = ArchiveReader.open(createReadStream(path), { label: name }).then((r) => r.finish());
    await assert.rejects(attempt, (err: unknown) => err instanceof IntegrityError && err.exitCode === 3 && pattern.test(err.message), name);
  }
});
