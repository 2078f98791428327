import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readdirSync } from 'node:fs';
import { ArchiveReader } from '../../../src/archive/index.js';
import { EtcdClient } from '../../../src/client/client.js';
import { saveSnapshot } from '../../../src/snapshot/save.js';
import { pickMember, type PickedMember } from '../../../src/snapshot/sources/pick-member.js';
import { rangeArchive } from '../../../src/snapshot/sources/range-source.js';
import { LocalStore } from '../../../src/snapshot/stores/local-store.js';
import { createLogger, silentLogger } from '../../../src/util/log.js';
import { requireBinary, startEtcd, tempDir } from '../../support/index.js';

const KEYS = 30;

/**
 * Saves through Range in pages of 10 from a real etcd holding KEYS keys; `compactAfterFirstPage`
 * says, per attempt, whether to write a key and compact up to it once that attempt's first page
 * is archived (before its second page is requested), so the pinned revision is gone mid-way.
 */
async function saveWithCompactions(t: TestContext, compactAfterFirstPage: boolean[]) {
  requireBinary(t, 'etcd');
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const client = new EtcdClient({ endpoints: [etcd.endpoint] });
  t.after(() => client.close());
  for (let i = 0; i < KEYS; i++) await client.put({ key: `/k/${String(i).padStart(2, '0')}`, value: `v${i}` });
  const dir = tempDir('range-source', t).path;
  const store = await LocalStore.at(`${dir}/`);
  const warnings: string[] = [];
  const logger = createLogger({ write: (line) => void warnings.push((JSON.parse(line) as { msg: string }).msg) }, 'warn');
  const pinned: number[] = [];
  let member: PickedMember | undefined;
  const save = saveSnapshot(
    store,
    async () => {
      member ??= await pickMember(client, silentLogger);
      const attempt = pinned.length;
      return rangeArchive(member, {
        toolVersion: 'test',
        endpoints: [etcd.endpoint],
        logger: silentLogger,
        pageSize: 10,
        onPage: async ({ revision, pages }) => {
          if (pages === 1) pinned.push(revision);
          if (pages !== 1 || compactAfterFirstPage[attempt] !== true) return;
          const put = await client.put({ key: '/k/writer', value: `after page 1 of attempt ${attempt + 1}` });
          await client.compact(put.header!.revision);
        },
      });
    },
    { logger },
  );
  t.after(() => member?.client.close());
  return { save, pinned, warnings, dir };
}

test('range save whose pinned revision is compacted mid-way starts once more at a new revision and succeeds', async (t) => {
  const { save, pinned, warnings, dir } = await saveWithCompactions(t, [true, false]);
  const result = await save;
  assert.equal(pinned.length, 2, `attempts pinned at ${pinned.join(', ')}`);
  assert.ok(pinned[1]! > pinned[0]!, `the second attempt pins a later revision than ${pinned[0]} (got ${pinned[1]})`);
  assert.equal(result.manifest.revision, pinned[1]);
  assert.equal(result.trailer.keyCount, KEYS + 1, 'every key plus the one written between pages');
  assert.deepEqual(warnings, ['the pinned revision was compacted during the read; starting once more at a new revision']);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tar.zst')).length, 1);
});

test('range save compacted mid-way twice fails clearly and leaves no file', async (t) => {
  const { save, pinned, warnings, dir } = await saveWithCompactions(t, [true, true]);
  await assert.rejects(save, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'STRATA_RANGE_COMPACTED');
    assert.match(err.message, new RegExp(`^Cannot read 127\\.0\\.0\\.1:\\d+ at revision ${pinned[1]}: it was compacted during the read; run the save again or compact less often$`));
    return true;
  });
  assert.equal(pinned.length, 2, `exactly one retry (attempts pinned at ${pinned.join(', ')})`);
  assert.ok(pinned[1]! > pinned[0]!);
  assert.equal(warnings.length, 1);
  assert.deepEqual(readdirSync(dir), [], 'no archive, no part file, no sidecar');
});

test('range save archives Range at its revision in revision order, with a transaction wider than a page and the sort spilled to disk', async (t) => {
  requireBinary(t, 'etcd');
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const client = new EtcdClient({ endpoints: [etcd.endpoint] });
  t.after(() => client.close());
  // 25 keys written by one txn share a revision: more than a page of 10 (reading in revision
  // order refused that). Overwrites and a delete move keys out of key order.
  await client.txn({ success: Array.from({ length: 25 }, (_, i) => ({ request_put: { key: Buffer.from(`/t/${String(i).padStart(2, '0')}`), value: Buffer.from(`txn ${i}`) } })) });
  for (let i = 0; i < 15; i++) await client.put({ key: `/k/${String(i).padStart(2, '0')}`, value: `v${i}` });
  await client.put({ key: '/t/03', value: 'overwritten' });
  await client.deleteRange({ key: '/k/05' });
  const lease = await client.leaseGrant(600);
  await client.put({ key: '/t/07', value: 'leased', lease: lease.ID });

  const dir = tempDir('range-order', t).path;
  const member = await pickMember(client, silentLogger);
  t.after(() => member.client.close());
  const store = await LocalStore.at(`${dir}/`);
  const pages: Array<{ keys: number; totalKeys: number }> = [];
  const fractions: Array<number | undefined> = [];
  const saved = await saveSnapshot(
    store,
    () =>
      rangeArchive(member, {
        toolVersion: 'test',
        endpoints: [etcd.endpoint],
        logger: silentLogger,
        pageSize: 10,
        spill: { directory: dir, memoryBytes: 1 },
        onPage: ({ keys, totalKeys }) => void pages.push({ keys, totalKeys }),
      }),
    { logger: silentLogger, onBytes: (_bytes, fraction) => void fractions.push(fraction) },
  );
  // Progress: the pages count up to every key, then the archive's bytes (which start only after
  // the sort) carry the second half of the work to 1.
  assert.deepEqual(pages.map((p) => `${p.keys}/${p.totalKeys}`), ['10/39', '20/39', '30/39', '39/39']);
  assert.ok(fractions.every((f, i) => f !== undefined && f >= 0.5 && f <= 1 && (i === 0 || f >= fractions[i - 1]!)), `fractions ${fractions.join(', ')}`);
  assert.equal(fractions.at(-1), 1);
  const revision = saved.manifest.revision;
  const reader = await ArchiveReader.open(createReadStream(saved.location));
  const archived: string[] = [];
  for await (const r of reader.records()) {
    archived.push(`${r.main}_${r.sub} ${r.kv.key.toString('latin1')}=${r.kv.value.toString('latin1')} c${r.kv.createRevision} v${r.kv.version} l${r.kv.lease}`);
  }
  await reader.finish();

  const range = await client.range({ key: Buffer.from([0]), range_end: Buffer.from([0]), revision: String(revision) });
  const byRevision = [...range.kvs].sort((a, b) => Number(a.mod_revision) - Number(b.mod_revision) || Buffer.compare(a.key, b.key));
  const subs = new Map<string, number>();
  const expected = byRevision.map((kv) => {
    const sub = subs.get(kv.mod_revision) ?? 0;
    subs.set(kv.mod_revision, sub + 1);
    return `${kv.mod_revision}_${sub} ${kv.key.toString('latin1')}=${kv.value.toString('latin1')} c${kv.create_revision} v${kv.version} l${BigInt(kv.lease)}`;
  });
  assert.equal(expected.length, 39, '25 txn keys and 15 puts, one deleted');
  assert.deepEqual(archived, expected);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('strata-sort-')), [], 'the sort runs are gone');
});
