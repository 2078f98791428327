// Must show (issue 4): Debian's etcdctl against a three-member strata cluster on loopback:
// member list with every member's URLs, endpoint status with exactly one leader, a put on one
// member read on another, the leader killed with kill -9 and a new one elected, then the dead
// member removed and a fourth added with --initial-cluster-state existing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, missingBinary, runEtcdctl, runStrata, tempDir } from '../support/index.js';
import { initialCluster, memberPorts, startMember, startStrataCluster, stopCluster, type ClusterMember } from './strata-cluster.js';

const hostPort = (url: string): string => url.replace(/^https?:\/\//, '');

async function etcdctl(endpoints: readonly ClusterMember[], ...args: string[]): Promise<string> {
  const result = await runEtcdctl(['--endpoints', endpoints.map((m) => hostPort(m.clientUrl)).join(','), '--command-timeout=5s', ...args]);
  assert.equal(result.code, 0, `etcdctl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** `member list` rows as [id, status, name, peer URLs, client URLs, is learner]. */
async function memberRows(endpoints: readonly ClusterMember[]): Promise<string[][]> {
  const out = await etcdctl(endpoints, 'member', 'list');
  return out.trim().split('\n').map((line) => line.split(', '));
}

/** The leader each member reports (JSON numbers read as text: member IDs exceed 2^53). */
async function leaders(endpoints: readonly ClusterMember[]): Promise<Set<string>> {
  const result = await runEtcdctl(['--endpoints', endpoints.map((m) => hostPort(m.clientUrl)).join(','), 'endpoint', 'status', '-w', 'json']);
  if (result.code !== 0) return new Set();
  return new Set([...result.stdout.matchAll(/"leader":(\d+)/g)].map((m) => m[1]!));
}

test('etcdctl against a three-member strata cluster: members, status, replication, leader kill, remove and add', { skip: missingBinary('etcdctl'), timeout: 240_000 }, async (t) => {
  const root = tempDir('strata-cluster', t);
  let members = await startStrataCluster(['s1', 's2', 's3'], root.path, 'cluster-etcdctl');
  t.after(() => stopCluster(members));

  // Members publish their client URLs through the log once a leader exists.
  await eventually(async () => (await memberRows(members)).every((row) => row[4] !== ''), 'every member to publish its client URLs');
  const rows = await memberRows(members);
  assert.deepEqual(
    rows.map((r) => [r[2], r[3], r[4], r[5]]).sort(),
    members.map((m) => [m.name, m.peerUrl, m.clientUrl, 'false']).sort(),
  );

  const table = await etcdctl(members, 'endpoint', 'status', '-w', 'table');
  const leaderCells = table.split('\n').filter((line) => line.startsWith('| 127.0.0.1')).map((line) => line.split('|')[5]!.trim());
  assert.equal(leaderCells.length, 3, table);
  assert.deepEqual(leaderCells.filter((c) => c === 'true').length, 1, `exactly one leader:\n${table}`);
  assert.equal((await leaders(members)).size, 1, 'every member names the same leader');

  await etcdctl([members[0]!], 'put', '/cluster/a', 'one');
  assert.equal(await etcdctl([members[2]!], 'get', '/cluster/a', '--print-value-only'), 'one\n');

  // kill -9 the leader: the other two elect a new one and writes go on.
  const leaderId = [...(await leaders(members))][0]!;
  const idByName = new Map(rows.map((r) => [r[2]!, BigInt(`0x${r[0]}`).toString()]));
  const victim = members.find((m) => idByName.get(m.name) === leaderId)!;
  await victim.running!.stop('SIGKILL');
  victim.running = undefined;
  const survivors = members.filter((m) => m !== victim);
  await eventually(async () => {
    const seen = await leaders(survivors);
    return seen.size === 1 && !seen.has('0') && !seen.has(leaderId);
  }, 'a new leader among the survivors', 15_000);
  await etcdctl([survivors[0]!], 'put', '/cluster/b', 'two');
  assert.equal(await etcdctl([survivors[1]!], 'get', '/cluster/b', '--print-value-only'), 'two\n');

  // Remove the dead member, add a fourth, and start it joining the running cluster.
  await etcdctl(survivors, 'member', 'remove', BigInt(leaderId).toString(16));
  const s4 = await memberPorts('s4');
  // As etcd's --strict-reconfig-check, the add waits until the new leader has been connected to
  // every voter for a while: until then it is refused as "unhealthy cluster".
  let added = '';
  await eventually(async () => {
    const result = await runEtcdctl(['--endpoints', survivors.map((m) => hostPort(m.clientUrl)).join(','), 'member', 'add', 's4', `--peer-urls=${s4.peerUrl}`]);
    assert.ok(result.code === 0 || result.stderr.includes('etcdserver: unhealthy cluster'), result.stderr);
    added = result.stdout;
    return result.code === 0;
  }, 'member add to be accepted', 20_000);
  assert.match(added, /Member +[0-9a-f]+ added to cluster/);
  const fourth = await startMember(s4, {
    root: root.path,
    cluster: initialCluster([...survivors, s4]),
    state: 'existing',
    token: 'cluster-etcdctl',
  });
  members = [...survivors, fourth];
  await eventually(async () => {
    const result = await runEtcdctl(['--endpoints', hostPort(fourth.clientUrl), 'get', '/cluster/b', '--print-value-only', '--consistency=s']);
    return result.stdout === 'two\n';
  }, 'the fourth member to catch up', 30_000);
  await etcdctl([fourth], 'put', '/cluster/c', 'three');
  assert.equal(await etcdctl([survivors[0]!], 'get', '/cluster/c', '--print-value-only'), 'three\n');
  await eventually(async () => (await memberRows(members)).every((row) => row[4] !== ''), 'the fourth member to publish its client URLs');
  const finalRows = await memberRows(members);
  assert.deepEqual(
    finalRows.map((r) => [r[2], r[3], r[4]]).sort(),
    members.map((m) => [m.name, m.peerUrl, m.clientUrl]).sort(),
  );
  assert.equal((await leaders(members)).size, 1);
});

test('etcdctl move-leader hands leadership to the named voter, and refuses an unknown one', { skip: missingBinary('etcdctl'), timeout: 120_000 }, async (t) => {
  const root = tempDir('strata-move-leader', t);
  const members = await startStrataCluster(['m1', 'm2', 'm3'], root.path, 'cluster-move-leader');
  t.after(() => stopCluster(members));
  await eventually(async () => (await leaders(members)).size === 1 && !(await leaders(members)).has('0'), 'one leader');
  const leaderId = BigInt([...(await leaders(members))][0]!);
  const rows = await memberRows(members);
  const target = BigInt(`0x${rows.find((r) => BigInt(`0x${r[0]}`) !== leaderId)![0]}`);

  // etcdctl finds the leader among the endpoints and asks it; it answers once the transferee leads.
  const out = await etcdctl(members, 'move-leader', target.toString(16));
  assert.equal(out, `Leadership transferred from ${leaderId.toString(16)} to ${target.toString(16)}\n`);
  assert.deepEqual([...(await leaders(members))], [target.toString()], 'every member names the transferee');

  // strata's own move-leader does the same, asked through any endpoint list.
  const moved = await runStrata(['move-leader', leaderId.toString(16), '--endpoints', members.map((m) => m.clientUrl).join(',')]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(moved.stdout, `Leadership transferred from ${target.toString(16)} to ${leaderId.toString(16)}\n`);
  assert.deepEqual([...(await leaders(members))], [leaderId.toString()]);

  const unknown = await runEtcdctl(['--endpoints', members.map((m) => hostPort(m.clientUrl)).join(','), 'move-leader', 'abcdef']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /etcdserver: bad leader transferee/);
});
