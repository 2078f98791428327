import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { silentLogger } from '../../../src/util/log.js';
import { Backend } from '../../../src/server/backend/backend.js';
import { copyBackendFile } from '../../../src/server/backend/backend-copy.js';
import { MetaKey, MetaStore } from '../../../src/server/backend/meta.js';
import { dataDirPaths, type DataDirPaths } from '../../../src/server/datadir/layout.js';
import {
  partialBackendPath,
  receivedBackendPath,
  recoverReceivedBackend,
  sealReceivedBackend,
} from '../../../src/server/replication/received-backend.js';
import { Wal } from '../../../src/server/wal/index.js';
import { tempDir } from '../../support/index.js';

async function backendOf(path: string, clusterId: bigint, memberId: bigint): Promise<void> {
  const backend = Backend.open(path, { logger: silentLogger });
  const meta = new MetaStore(backend.db);
  backend.transaction(() => {
    meta.putBigInt(MetaKey.clusterId, clusterId);
    meta.putBigInt(MetaKey.memberId, memberId);
  });
  await copyBackendFile(path, `${path}.copy`, silentLogger);
  backend.close();
}

/** A data dir whose WAL's newest snapshot marker is at `index` (term 2). */
async function dataDirWithWalMarker(t: TestContext, index: number): Promise<DataDirPaths> {
  const paths = dataDirPaths(tempDir('received-backend', t).path);
  mkdirSync(paths.snap, { recursive: true });
  const wal = await Wal.create(paths.wal, Buffer.alloc(16));
  await wal.saveSnapshotMarker(2, index);
  await wal.close();
  return paths;
}

/** A backend that has applied the entries up to `index`. */
function backendAt(path: string, index: number): void {
  const backend = Backend.open(path, { logger: silentLogger });
  backend.transaction(() => new MetaStore(backend.db).putNumber(MetaKey.consistentIndex, index));
  backend.close();
}

test("a received backend is sealed only when it is of this cluster, and then carries this member's ID", async (t) => {
  const paths = dataDirPaths(tempDir('received-backend', t).path);
  mkdirSync(paths.snap, { recursive: true });
  const sent = partialBackendPath(paths.snap, 'incoming');
  await backendOf(`${paths.snap}/leader.sqlite`, 7n, 0xaaaan);
  writeFileSync(sent, readFileSync(`${paths.snap}/leader.sqlite.copy`));

  await assert.rejects(sealReceivedBackend(sent, paths.snap, 12, { memberId: 0xbbbbn, clusterId: 8n }), /it is of cluster 7, not 8/);
  const sealed = await sealReceivedBackend(sent, paths.snap, 12, { memberId: 0xbbbbn, clusterId: 7n });
  assert.equal(sealed, receivedBackendPath(paths.snap, 12));
  assert.ok(!existsSync(sent));
  const opened = Backend.open(sealed, { logger: silentLogger, readOnly: true });
  t.after(() => opened.close());
  assert.equal(new MetaStore(opened.db).getBigInt(MetaKey.memberId), 0xbbbbn, 'the copy holds the sender ID until sealed');
});

test('at start, a received backend the WAL marker covers replaces the backend; one it does not cover and partial files are dropped', async (t) => {
  const paths = await dataDirWithWalMarker(t, 10);
  backendAt(paths.backend, 5);
  writeFileSync(`${paths.backend}-wal`, 'old backend SQLite WAL');
  writeFileSync(receivedBackendPath(paths.snap, 10), 'backend of snapshot 10');
  writeFileSync(receivedBackendPath(paths.snap, 12), 'backend of snapshot 12, never recorded');
  writeFileSync(partialBackendPath(paths.snap, 'send-1'), 'half a copy');
  writeFileSync(`${partialBackendPath(paths.snap, '000000000000000c.snap-0')}-journal`, 'journal of a half-sealed copy');

  await recoverReceivedBackend(paths, silentLogger);
  assert.equal(readFileSync(paths.backend, 'utf8'), 'backend of snapshot 10');
  assert.ok(!existsSync(`${paths.backend}-wal`), "the old backend's SQLite WAL must not be read into the new one");
  assert.ok(!existsSync(receivedBackendPath(paths.snap, 10)));
  assert.ok(!existsSync(receivedBackendPath(paths.snap, 12)));
  assert.ok(!existsSync(partialBackendPath(paths.snap, 'send-1')));
  assert.ok(!existsSync(`${partialBackendPath(paths.snap, '000000000000000c.snap-0')}-journal`));

  // Nothing left to do: a second start changes nothing.
  await recoverReceivedBackend(paths, silentLogger);
  assert.equal(readFileSync(paths.backend, 'utf8'), 'backend of snapshot 10');
});

test('at start, a received backend the member has since overtaken is dropped, though a newer WAL marker covers it', async (t) => {
  // Raft ignored snapshot 12 (the member had committed past it), a crash kept the file, and the
  // member's own snapshot at 20 is now the WAL's newest marker.
  const paths = await dataDirWithWalMarker(t, 20);
  backendAt(paths.backend, 20);
  writeFileSync(receivedBackendPath(paths.snap, 12), 'backend of snapshot 12, ignored by raft');

  await recoverReceivedBackend(paths, silentLogger);
  assert.ok(!existsSync(receivedBackendPath(paths.snap, 12)));
  const backend = Backend.open(paths.backend, { logger: silentLogger, readOnly: true });
  t.after(() => backend.close());
  assert.equal(new MetaStore(backend.db).getNumber(MetaKey.consistentIndex), 20, 'the backend must stay the one at 20');
});
