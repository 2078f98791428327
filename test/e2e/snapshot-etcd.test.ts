// Must show (issue 3) against Debian's etcd: save through Maintenance.Snapshot and through
// Range, status and verify agree with the server (revision, keys, `etcdctl endpoint hashkv
// --rev`), etcd's own snapshot files are read too, and damaged files fail verify with exit 3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { missingBinary, runEtcdctl, runStrata, seededRandom, startEtcd, tempDir } from '../support/index.js';
import { writeHistory } from '../snapshot/history.js';

// The full-size round trip: 100k keys (about 1.5 minutes per server on two cores);
// STRATA_SNAPSHOT_KEYS=3000 for a quick run while working on it.
const KEYS = Number(process.env.STRATA_SNAPSHOT_KEYS ?? 100_000);
const SEED = Number(process.env.STRATA_TEST_SEED ?? 3003);
const skip = missingBinary('etcd', 'etcdctl');

async function etcdHashKv(endpoint: string, rev: number): Promise<number> {
  const res = await runEtcdctl([`--endpoints=${endpoint}`, 'endpoint', 'hashkv', '--rev', String(rev), '-w', 'json']);
  assert.equal(res.code, 0, res.stderr);
  return (JSON.parse(res.stdout) as Array<{ HashKV: { hash: number } }>)[0]!.HashKV.hash;
}

function json(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

test('snapshot save/status/verify round trip against Debian etcd (both methods) and etcd snapshot files', { skip, timeout: 180_000 + KEYS * 10 }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const dir = tempDir('snap-etcd', t).path;
  const history = await writeHistory(etcd.endpoint, { seed: SEED, keys: KEYS });
  const why = `seed ${SEED}`;

  // Maintenance.Snapshot: etcd's bbolt image becomes an archive.
  const saved = await runStrata(['snapshot', 'save', join(dir, 'a.tar.zst'), '--endpoints', etcd.endpoint, '--json']);
  assert.equal(saved.code, 0, saved.stderr);
  const summary = json(saved.stdout);
  assert.equal(summary['revision'], history.revision, why);
  assert.equal(summary['compactRevision'], history.compactRevision, why);
  assert.equal(summary['totalKey'], history.liveKeys, why);
  assert.equal(summary['source'], 'etcd');
  assert.match(saved.stderr, /snapshotting the leader at/);
  assert.ok(readFileSync(join(dir, 'a.tar.zst.sha256'), 'utf8').startsWith(String(summary['sha256'])));

  const status = await runStrata(['snapshot', 'status', join(dir, 'a.tar.zst'), '-w', 'json']);
  assert.equal(status.code, 0, status.stderr);
  const st = json(status.stdout);
  assert.equal(st['revision'], history.revision);
  assert.equal(st['totalKey'], history.liveKeys);
  assert.equal(st['format'], 'strata-archive 1.1 (history)');

  const expectedHash = await etcdHashKv(etcd.endpoint, history.revision);
  assert.equal(st['hashKV'], expectedHash, why);
  assert.notEqual(st['hash'], expectedHash, `${why}: keys the compaction kept were written again, so the history's own hash differs`);
  const verified = await runStrata(['snapshot', 'verify', join(dir, 'a.tar.zst'), '--against', etcd.endpoint, '--json']);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(json(verified.stdout)['hashKV'], expectedHash, why);

  // --method range: a logical `latest` snapshot with the same keys.
  const ranged = await runStrata(['snapshot', 'save', join(dir, 'r.tar.zst'), '--endpoints', etcd.endpoint, '--method', 'range', '--json']);
  assert.equal(ranged.code, 0, ranged.stderr);
  assert.equal(json(ranged.stdout)['totalKey'], history.liveKeys, why);
  assert.equal(json(ranged.stdout)['compactRevision'], history.compactRevision, `${why}: range reads find the compact revision`);
  assert.equal(json(ranged.stdout)['leases'], 3);
  const rangeVerified = await runStrata(['snapshot', 'verify', join(dir, 'r.tar.zst')]);
  assert.equal(rangeVerified.code, 0, rangeVerified.stderr);
  const prefixed = await runStrata(['snapshot', 'save', join(dir, 'p.tar.zst'), '--endpoints', etcd.endpoint, '--method', 'range', '--prefix', '/lease/', '--json']);
  assert.equal(prefixed.code, 0, prefixed.stderr);
  assert.equal(json(prefixed.stdout)['totalKey'], 15);
  assert.equal(json(prefixed.stdout)['compactRevision'], history.compactRevision, why);

  // etcd's own snapshot file: status has etcdctl's numbers, verify checks it through.
  const db = join(dir, 'etcd.db');
  const etcdSave = await runEtcdctl([`--endpoints=${etcd.endpoint}`, 'snapshot', 'save', db]);
  assert.equal(etcdSave.code, 0, etcdSave.stderr);
  const ours = json((await runStrata(['snapshot', 'status', db, '-w', 'json'])).stdout);
  const theirs = JSON.parse((await runEtcdctl(['snapshot', 'status', db, '-w', 'json'])).stdout) as Record<string, unknown>;
  for (const field of ['hash', 'revision', 'totalKey', 'totalSize']) assert.equal(ours[field], theirs[field], field);
  assert.equal(ours['hashKV'], expectedHash);
  const dbVerified = await runStrata(['snapshot', 'verify', db]);
  assert.equal(dbVerified.code, 0, dbVerified.stderr);

  // ls: the directory's snapshots, newest first.
  const listed = await runStrata(['snapshot', 'ls', dir, '-w', 'json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as Array<{ name: string }>).map((i) => i.name).sort(), ['a.tar.zst', 'etcd.db', 'p.tar.zst', 'r.tar.zst']);

  // Integrity through the CLI: flipped bytes and cuts of both kinds of file exit 3, naming what failed.
  const random = seededRandom(SEED);
  for (const [name, source] of [['a.tar.zst', join(dir, 'a.tar.zst')], ['etcd.db', db]] as const) {
    const bytes = readFileSync(source);
    for (let i = 0; i < 4; i++) {
      const damaged = Buffer.from(bytes);
      const at = Math.floor(random() * damaged.length);
      damaged[at] = damaged[at]! ^ (1 + Math.floor(random() * 255));
      const path = join(dir, `flip-${i}-${name}`);
      writeFileSync(path, damaged);
      const res = await runStrata(['snapshot', 'verify', path]);
      assert.equal(res.code, 3, `${why}: flipped byte ${at} of ${name}: ${res.stdout}${res.stderr}`);
      assert.match(res.stderr, /^Error: .+\n$/);
    }
    for (let i = 0; i < 3; i++) {
      const cut = Math.floor(random() * (bytes.length - 1)) + 1;
      const path = join(dir, `cut-${i}-${name}`);
      writeFileSync(path, bytes.subarray(0, cut));
      const res = await runStrata(['snapshot', 'verify', path]);
      assert.equal(res.code, 3, `${why}: cut at ${cut} of ${name}: ${res.stdout}${res.stderr}`);
      assert.match(res.stderr, /truncated|trailer|missing|corrupt|SHA-256|size|holds|neither/i);
    }
  }
  assert.ok(readdirSync(dir).every((n) => !n.endsWith('.part')));
});

test('snapshot save of an unreachable endpoint fails with one line and leaves nothing', { timeout: 60_000 }, async (t) => {
  const dir = tempDir('snap-unreach', t).path;
  const res = await runStrata(['snapshot', 'save', join(dir, 'x.tar.zst'), '--endpoints', '127.0.0.1:1', '--dial-timeout', '500ms', '--command-timeout', '2s']);
  assert.equal(res.code, 1, res.stderr);
  assert.equal(res.stderr.trim().split('\n').filter((l) => l.startsWith('Error:')).length, 1, res.stderr);
  assert.match(res.stderr, /127\.0\.0\.1:1/);
  assert.deepEqual(readdirSync(dir), []);
});
