// Every client command through `strata` and through Debian's `etcdctl` 3.4, each against its own
// fresh Debian etcd fed the same commands, so revisions, hashes and sizes agree; only member and
// cluster IDs, ports and timings differ, and only those are normalised.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient } from '../../src/client/client.js';
import {
  makeCerts,
  missingBinary,
  runEtcdctl,
  runStrata,
  startEtcd,
  startEtcdctl,
  startStrata,
  tempDir,
  type EtcdProcess,
  type RunningProcess,
  type TestCerts,
} from '../support/index.js';

interface Side {
  etcd: EtcdProcess;
  flags: string[];
  normalize: (text: string) => string;
}

async function side(etcd: EtcdProcess, certs: TestCerts | undefined): Promise<Side> {
  const tlsFlags = certs ? ['--cacert', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey] : [];
  const client = new EtcdClient({
    endpoints: [etcd.endpoint],
    ...(certs ? { tls: { ca: await read(certs.ca), cert: await read(certs.clientCert), key: await read(certs.clientKey), serverName: 'localhost' } } : {}),
  });
  const status = await client.status();
  client.close();
  const member = status.header!.member_id;
  const cluster = status.header!.cluster_id;
  const swaps: Array<[string, string]> = [
    [etcd.clientUrl, '<client-url>'],
    [etcd.peerUrl, '<peer-url>'],
    [etcd.endpoint, '<endpoint>'],
    [member, '<member-id>'],
    [BigInt(member).toString(16), '<member-hex>'],
    [cluster, '<cluster-id>'],
    // etcdctl prints some IDs with %16x: a leading space pads an ID with fewer hex digits.
    [BigInt(cluster).toString(16).padStart(16, ' '), '<cluster-hex>'],
    [BigInt(cluster).toString(16), '<cluster-hex>'],
  ];
  return {
    etcd,
    flags: ['--endpoints', etcd.endpoint, ...tlsFlags],
    normalize: (text) => {
      let out = text;
      for (const [from, to] of swaps) out = out.split(from).join(to);
      // Timings of `endpoint health`.
      out = out.replace(/\d+(\.\d+)?(ns|µs|ms|s)\b/g, '<took>');
      // Table column widths follow the (normalised) cell widths.
      if (out.includes('+-')) out = out.replace(/-+/g, '-').replace(/ +/g, ' ');
      // `endpoint status`: the bbolt file size depends on background commits, and the raft
      // index on internal entries (strata's health check also reads the alarm list, which
      // etcd 3.4 runs through raft, as etcdctl 3.5 does), not on the data.
      out = out.replace(/("(?:raftIndex|raftAppliedIndex|dbSize|dbSizeInUse)":)\d+/g, '$1<n>');
      out = out.replace(/("(?:RaftIndex|RaftAppliedIndex|DBSize)" : )\d+/g, '$1<n>');
      out = out.replace(/(<member-hex>, [\d.]+, )[\d.]+ [kMG]?B, (\w+, \w+, \d+, )\d+, \d+/g, '$1<size>, $2<n>, <n>');
      out = out.replace(/(<member-hex> \| [\d.]+ \| )[\d.]+ [kMG]?B( \| \w+ \| \w+ \| \d+ \| )\d+ \| \d+/g, '$1<size>$2<n> | <n>');
      return out;
    },
  };
}

async function read(path: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path);
}

/** Runs `args` through etcdctl on one side and strata on the other and compares what users see. */
async function same(a: Side, b: Side, args: string[], options: { exitCodes?: boolean } = {}): Promise<void> {
  const [ours, theirs] = await Promise.all([
    runStrata([...args, ...b.flags]),
    runEtcdctl([...a.flags, ...args]),
  ]);
  const label = `strata ${args.join(' ')}`;
  assert.equal(b.normalize(ours.stdout), a.normalize(theirs.stdout), `${label}: stdout differs from etcdctl's\nstderr: ${ours.stderr}`);
  assert.equal(b.normalize(ours.stderr), a.normalize(theirs.stderr), `${label}: stderr differs from etcdctl's`);
  if (options.exitCodes !== false) assert.equal(ours.code, theirs.code, `${label}: exit code`);
}

const kvScript: string[][] = [
  ['put', 'foo', 'bar'],
  ['put', 'foo2', 'b z'],
  ['put', '-w', 'json', 'foo', 'bar'],
  ['put', '--prev-kv', 'foo', 'baz'],
  ['put', '-w', 'fields', '--prev-kv', 'foo', 'qux'],
  ['put', '/json/user/a1', '12'],
  ['put', '/json/user/a2', '13'],
  ['put', 'tricky', 'tab\there "quoted" <html> ünï'],
  ['get', 'foo'],
  ['get', '--prefix', 'foo'],
  ['get', '--prefix', 'foo', '-w', 'json'],
  ['get', '--prefix', 'foo', '-w', 'fields'],
  ['get', '--prefix', '--keys-only', 'foo'],
  ['get', '--prefix', '--print-value-only', 'foo'],
  ['get', '--hex', 'foo'],
  ['get', '--from-key', 'foo2'],
  ['get', 'foo', 'foo3'],
  ['get', '--prefix', '--limit', '1', '-w', 'json', 'foo'],
  ['get', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', 'foo'],
  ['get', '--rev', '2', 'foo'],
  ['get', '--consistency', 's', 'foo'],
  ['get', 'tricky', '-w', 'json'],
  ['get', 'tricky', '-w', 'fields'],
  ['get', 'nope', '-w', 'fields'],
  ['get', 'nope', '-w', 'json'],
  ['get', '--prefix', '/json', '-w', 'fields'],
  ['del', '--prev-kv', 'foo2'],
  ['del', '-w', 'json', 'nope'],
  ['del', '--prefix', '--prev-kv', '-w', 'fields', '/json/user/a'],
];

const clusterScript: string[][] = [
  ...['simple', 'json', 'fields', 'table'].flatMap((w) => [
    ['member', 'list', '-w', w],
    ['endpoint', 'status', '-w', w],
    ['endpoint', 'hashkv', '-w', w],
    ['endpoint', 'health', '-w', w],
  ]),
  ['endpoint', 'status', '--cluster', '-w', 'table'],
  ['endpoint', 'health', '--cluster'],
  ['endpoint', 'hashkv', '--rev', '3'],
];

/** Watch output from a past revision until `done`: the same history on both sides gives the same stream. */
async function sameWatch(a: Side, b: Side, args: string[], done: (stdout: string) => boolean): Promise<void> {
  const ours: RunningProcess = startStrata([...args, ...b.flags]);
  const theirs: RunningProcess = startEtcdctl([...a.flags, ...args]);
  try {
    await Promise.all([
      ours.waitFor((out) => done(out), 15_000, `the last event from strata ${args.join(' ')}`),
      theirs.waitFor((out) => done(out), 15_000, `the last event from etcdctl ${args.join(' ')}`),
    ]);
  } finally {
    await Promise.all([ours.stop(), theirs.stop()]);
  }
  assert.equal(b.normalize(ours.stdout), a.normalize(theirs.stdout), `strata ${args.join(' ')}: watch output differs`);
}

for (const mode of ['plain', 'mutual TLS'] as const) {
  describe(`strata and etcdctl print the same (${mode})`, { skip: missingBinary('etcd', 'etcdctl', 'openssl') }, () => {
    let a: Side;
    let b: Side;
    let certsDir: { path: string; remove: () => void } | undefined;

    before(async () => {
      let certs: TestCerts | undefined;
      if (mode === 'mutual TLS') {
        certsDir = tempDir('certs');
        certs = makeCerts(certsDir.path);
      }
      const options = certs ? { tls: certs } : {};
      // One at a time, so that `after` stops the first should the second fail to start.
      a = await side(await startEtcd(options), certs);
      b = await side(await startEtcd(options), certs);
    });
    after(async () => {
      await Promise.all([a?.etcd.stop(), b?.etcd.stop()]);
      certsDir?.remove();
    });

    test('get, put and del in every output format', async () => {
      for (const args of kvScript) await same(a, b, args);
    });

    test('member list and endpoint status, hashkv and health in every output format', async () => {
      for (const args of clusterScript) await same(a, b, args);
    });

    test('watch and watch --prefix replay puts and deletes (simple, json, fields, --prev-kv)', async () => {
      const firstPut = await runEtcdctl([...a.flags, 'put', '-w', 'json', 'w/a', '1']);
      await runStrata(['put', 'w/a', '1', ...b.flags]);
      const start = String((JSON.parse(firstPut.stdout) as { header: { revision: number } }).header.revision);
      for (const args of [['put', 'w/b', '2'], ['put', 'w/a', '3'], ['del', 'w/a'], ['del', '--prefix', 'w/'], ['put', 'w/zz', 'end']]) {
        await same(a, b, args);
      }
      const end = (out: string): boolean => out.includes('w/zz') || out.includes(Buffer.from('w/zz').toString('base64'));
      await sameWatch(a, b, ['watch', '--prefix', 'w/', '--rev', start], end);
      await sameWatch(a, b, ['watch', 'w/', 'w/zzz', '--rev', start, '--prev-kv'], end);
      await sameWatch(a, b, ['watch', '--prefix', 'w/', '--rev', start, '-w', 'json'], end);
      await sameWatch(a, b, ['watch', '--prefix', 'w/', '--rev', start, '-w', 'fields', '--prev-kv'], end);
    });

    test('unsupported output format: the same message', async () => {
      await same(a, b, ['get', '-w', 'table', 'foo'], { exitCodes: false });
    });
  });
}

describe('member add --learner and member remove print as etcdctl does', { skip: missingBinary('etcd', 'etcdctl') }, () => {
  let a: Side;
  let b: Side;
  before(async () => {
    a = await side(await startEtcd(), undefined);
    b = await side(await startEtcd(), undefined);
  });
  after(async () => {
    await Promise.all([a?.etcd.stop(), b?.etcd.stop()]);
  });

  /** The unstarted learner's ID (hex) from `member list`. */
  const learnerId = async (s: Side): Promise<string> => {
    const list = await runEtcdctl([...s.flags, 'member', 'list']);
    return /^([0-9a-f]+), unstarted/m.exec(list.stdout)?.[1] ?? 'none';
  };
  /** `member add` output with the new ID and the order of ETCD_INITIAL_CLUSTER (sorted by member ID) normalised. */
  const normalizeAdd = (text: string, id: string): string =>
    text
      .split(id.padStart(16, ' ')).join('<new-id>')
      .replace(/^ETCD_INITIAL_CLUSTER="(.*)"$/m, (_all, list: string) => `ETCD_INITIAL_CLUSTER="${list.split(',').sort().join(',')}"`);

  test('add a learner, then remove it', async () => {
    // A learner does not count for quorum, so the single member keeps serving.
    const peer = 'http://127.0.0.1:1';
    const theirsAdd = await runEtcdctl([...a.flags, 'member', 'add', 'l1', '--learner', '--peer-urls', peer]);
    const oursAdd = await runStrata(['member', 'add', 'l1', '--learner', '--peer-urls', peer, ...b.flags]);
    assert.equal(oursAdd.code, 0, oursAdd.stderr);
    const [idA, idB] = await Promise.all([learnerId(a), learnerId(b)]);
    assert.equal(b.normalize(normalizeAdd(oursAdd.stdout, idB)), a.normalize(normalizeAdd(theirsAdd.stdout, idA)));
    const theirsRemove = await runEtcdctl([...a.flags, 'member', 'remove', idA]);
    const oursRemove = await runStrata(['member', 'remove', idB, ...b.flags]);
    // etcdctl prints the ID as %16x: one that starts with a zero nibble is padded with a space.
    const removed = (out: string, id: string): string => out.replace(id.padStart(16, ' '), '<id>');
    assert.equal(b.normalize(removed(oursRemove.stdout, idB)), a.normalize(removed(theirsRemove.stdout, idA)));
  });
});
