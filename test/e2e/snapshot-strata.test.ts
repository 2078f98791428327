// Must show (issue 3) against the bundled server: save through Maintenance.Snapshot and from the
// data dir while the server runs, status and verify agree with the server; a snapshot taken while
// a writer runs equals Range at its revision; kill -9 and a full disk leave nothing complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ArchiveReader } from '../../src/archive/index.js';
import { EtcdClient } from '../../src/client/client.js';
import { buildRoot, mountTmpfs, runProcess, runStrata, seededRandom, startStrata, strataBin, tempDir } from '../support/index.js';
import { writeHistory } from '../snapshot/history.js';
import { startStrataServer } from './strata-server.js';

// The full-size round trip: 100k keys (about 1.5 minutes per server on two cores);
// STRATA_SNAPSHOT_KEYS=3000 for a quick run while working on it.
const KEYS = Number(process.env.STRATA_SNAPSHOT_KEYS ?? 100_000);
const SEED = Number(process.env.STRATA_TEST_SEED ?? 4004);

function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
}

/** The keys and values alive at the archive's revision, from its records. */
async function archiveState(path: string): Promise<{ revision: number; state: Map<string, string> }> {
  const reader = await ArchiveReader.open(createReadStream(path));
  const state = new Map<string, string>();
  for await (const r of reader.records()) {
    const key = r.kv.key.toString('latin1');
    if (r.tombstone) state.delete(key);
    else state.set(key, `${r.kv.value.toString('latin1')}@${r.kv.modRevision}`);
  }
  await reader.finish();
  return { revision: reader.manifest.revision, state };
}

async function rangeState(client: EtcdClient, revision: number): Promise<Map<string, string>> {
  const res = await client.range({ key: Buffer.from([0]), range_end: Buffer.from([0]), revision: String(revision) });
  return new Map(res.kvs.map((kv) => [kv.key.toString('latin1'), `${kv.value.toString('latin1')}@${kv.mod_revision}`]));
}

test('snapshot round trip from the bundled server: API and --data-dir while it runs', { timeout: 180_000 + KEYS * 10 }, async (t) => {
  const dir = tempDir('snap-strata', t).path;
  const server = await startStrataServer({ dataDir: join(dir, 'data') });
  t.after(() => server.stop());
  const history = await writeHistory(server.endpoint, { seed: SEED, keys: KEYS });
  const client = new EtcdClient({ endpoints: [server.endpoint] });
  t.after(() => client.close());
  const expected = await client.hashKV(String(history.revision));
  const why = `seed ${SEED}`;

  const store = join(dir, 'store');
  mkdirSync(store);
  for (const source of [['--endpoints', server.endpoint], ['--data-dir', server.dataDir]]) {
    const saved = await runStrata(['snapshot', 'save', `${store}/`, ...source, '--json']);
    assert.equal(saved.code, 0, saved.stderr);
    const summary = json(saved.stdout);
    assert.equal(summary['revision'], history.revision, why);
    assert.equal(summary['totalKey'], history.liveKeys, why);
    assert.equal(summary['leases'], 3);
    const location = String(summary['location']);
    assert.match(location, /\/[0-9a-f]+-\d{8}T\d{6}Z-r\d+\.tar\.zst$/);
    const status = json((await runStrata(['snapshot', 'status', location, '-w', 'json'])).stdout);
    assert.equal(status['revision'], history.revision);
    assert.equal(status['totalKey'], history.liveKeys);
    assert.equal(status['compactRevision'], history.compactRevision);
    assert.equal(status['hashKV'], expected.hash, why);
    const verified = await runStrata(['snapshot', 'verify', location, '--against', server.endpoint, '--json']);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(json(verified.stdout)['hashKV'], expected.hash, why);
  }
  const listed = JSON.parse((await runStrata(['snapshot', 'ls', store, '-w', 'json'])).stdout) as unknown[];
  assert.equal(listed.length, 2);

  // `-`: the archive on stdout (the summary on stderr), read back from stdin.
  const sh = (script: string): Promise<{ code: number | null; stderr: string }> =>
    runProcess('sh', ['-c', script], { env: { ...process.env, STRATA_DIST: buildRoot, S: strataBin, D: dir, E: server.endpoint } });
  const piped = await sh('node "$S" snapshot save - --endpoints "$E" --json > "$D/piped.tar.zst"');
  assert.equal(piped.code, 0, piped.stderr);
  assert.match(piped.stderr, /"revision":/);
  const fromStdin = await sh('node "$S" snapshot verify - < "$D/piped.tar.zst"');
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
});

test('a snapshot taken while a writer runs equals Range at its revision, key for key', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('snap-consistent', t).path;
  const server = await startStrataServer({ dataDir: join(dir, 'data') });
  t.after(() => server.stop());
  await writeHistory(server.endpoint, { seed: SEED + 1, keys: 500 });
  const client = new EtcdClient({ endpoints: [server.endpoint] });
  t.after(() => client.close());
  const random = seededRandom(SEED + 1);
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const key = `/busy/${Math.floor(random() * 300)}`;
      if (random() < 0.2) await client.deleteRange({ key });
      else await client.put({ key, value: `w${i}` });
    }
  })();
  try {
    for (const [name, source] of [['api.tar.zst', ['--endpoints', server.endpoint]], ['dir.tar.zst', ['--data-dir', server.dataDir]]] as const) {
      const saved = await runStrata(['snapshot', 'save', join(dir, name), ...source]);
      assert.equal(saved.code, 0, saved.stderr);
      const { revision, state } = await archiveState(join(dir, name));
      assert.deepEqual(state, await rangeState(client, revision), `${name} at revision ${revision}, seed ${SEED}`);
    }
  } finally {
    writing = false;
    await writer;
  }
});

test('kill -9 during a save leaves no file with the final name; a full disk fails with one line and leaves nothing', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('snap-faults', t).path;
  const server = await startStrataServer({ dataDir: join(dir, 'data') });
  t.after(() => server.stop());
  const client = new EtcdClient({ endpoints: [server.endpoint] });
  t.after(() => client.close());
  const random = seededRandom(SEED + 2);
  // Values that do not compress, so the archive is large and a slow level takes a while.
  for (let i = 0; i < 120; i++) {
    const value = Buffer.alloc(200_000);
    for (let j = 0; j < value.length; j += 4) value.writeUInt32LE(Math.floor(random() * 0x1_0000_0000), j);
    await client.put({ key: `/big/${i}`, value });
  }

  const target = join(dir, 'out', 'snap.tar.zst');
  mkdirSync(join(dir, 'out'));
  const saving = startStrata(['snapshot', 'save', target, '--data-dir', server.dataDir, '--level', '19']);
  await saving.waitFor(() => existsSync(`${target}.part`), 30_000, 'the part file');
  await saving.stop('SIGKILL');
  const left = readdirSync(join(dir, 'out'));
  assert.ok(left.every((n) => n.endsWith('.part')), `after kill -9: ${left.join(', ')}`);

  const disk = mountTmpfs(t, 1024 * 1024);
  if (!('path' in disk)) {
    t.diagnostic(`full-disk case skipped: ${disk.refused}`);
    return;
  }
  const full = disk.path;
  const res = await runStrata(['snapshot', 'save', join(full, 'snap.tar.zst'), '--data-dir', server.dataDir, '--level', '1']);
  assert.equal(res.code, 1, res.stderr);
  const errors = res.stderr.split('\n').filter((l) => l.startsWith('Error:'));
  assert.equal(errors.length, 1, res.stderr);
  assert.match(errors[0]!, /no space left/);
  assert.deepEqual(readdirSync(full), []);
});
