// Issue 4: a member too far behind for the leader's log (a restarted follower, a new member)
// catches up by snapshot: the leader streams its backend, the member installs it and then
// serves the same data as the leader and keeps replicating; a member killed with kill -9
// while installing a snapshot comes back consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, missingBinary, runEtcdctl, seededRandom, tempDir } from '../support/index.js';
import { initialCluster, memberPorts, startAll, startMember, stopCluster, type ClusterMember } from './strata-cluster.js';

const TOKEN = 'cluster-snapshot';
/** Small, so a few dozen writes take the leader's log past a stopped follower. */
const SNAPSHOT_FLAGS = ['--snapshot-count', '20', '--experimental-snapshot-catchup-entries', '5'];
const INSTALLED = '"installed a snapshot from the leader"';
const RECEIVED = '"received a snapshot backend from the leader"';

const hostPort = (url: string): string => url.replace(/^https?:\/\//, '');

async function etcdctl(member: ClusterMember, ...args: string[]): Promise<string> {
  const result = await runEtcdctl(['--endpoints', hostPort(member.clientUrl), '--command-timeout=5s', ...args]);
  assert.equal(result.code, 0, `etcdctl ${args.join(' ')} on ${member.name} failed: ${result.stderr}`);
  return result.stdout;
}

/** The member every running member names as leader, once they agree. */
async function leaderOf(members: readonly ClusterMember[]): Promise<ClusterMember> {
  let leader: ClusterMember | undefined;
  await eventually(async () => {
    const seen = await Promise.all(
      members.map(async (m) => {
        const result = await runEtcdctl(['--endpoints', hostPort(m.clientUrl), 'endpoint', 'status', '-w', 'json']);
        const own = /"member_id":(\d+)/.exec(result.stdout)?.[1];
        const lead = /"leader":(\d+)/.exec(result.stdout)?.[1];
        return { m, own, lead };
      }),
    );
    const leads = new Set(seen.map((s) => s.lead));
    const [lead] = leads;
    leader = seen.find((s) => s.own === lead)?.m;
    return leads.size === 1 && lead !== '0' && leader !== undefined;
  }, 'the members to agree on a leader', 20_000);
  return leader!;
}

/** Every key with its revisions and the header revision, read from `member` alone (serializable). */
async function localState(member: ClusterMember): Promise<string> {
  const out = JSON.parse(await etcdctl(member, 'get', '', '--prefix', '--consistency=s', '-w', 'json')) as { header: { revision: number }; kvs?: unknown[] };
  return JSON.stringify({ revision: out.header.revision, kvs: out.kvs ?? [] });
}

async function hashKv(member: ClusterMember, revision: number): Promise<string> {
  const out = JSON.parse(await etcdctl(member, 'endpoint', 'hashkv', `--rev=${revision}`, '-w', 'json')) as Array<{ HashKV: { hash: number; compact_revision: number } }>;
  return JSON.stringify([out[0]!.HashKV.hash, out[0]!.HashKV.compact_revision]);
}

/** `member` serves exactly the leader's data: same keys and revisions, same HashKV at the same revision. */
async function assertSameData(member: ClusterMember, leader: ClusterMember, what: string): Promise<void> {
  let expected = '';
  await eventually(async () => {
    expected = await localState(leader);
    return (await localState(member)) === expected;
  }, `${member.name} to serve the same data as the leader (${what})`, 30_000);
  const revision = (JSON.parse(expected) as { revision: number }).revision;
  assert.equal(await hashKv(member, revision), await hashKv(leader, revision), `${what}: HashKV at revision ${revision}`);
}

/** Overwrites, deletes, a lease with a key, and a compaction: more than --snapshot-count entries. */
async function writeHistory(leader: ClusterMember, round: string): Promise<void> {
  for (let i = 0; i < 30; i++) await etcdctl(leader, 'put', `/snap/${round}/key-${i % 7}`, `${round}-value-${i}`);
  await etcdctl(leader, 'del', `/snap/${round}/key-3`);
  const lease = /lease ([0-9a-f]+) granted/.exec(await etcdctl(leader, 'lease', 'grant', '600'))![1]!;
  await etcdctl(leader, 'put', `/snap/${round}/leased`, 'x', `--lease=${lease}`);
  const revision = (JSON.parse(await etcdctl(leader, 'get', '/snap', '-w', 'json')) as { header: { revision: number } }).header.revision;
  await etcdctl(leader, 'compaction', String(revision - 5));
  for (let i = 0; i < 5; i++) await etcdctl(leader, 'put', `/snap/${round}/after-${i}`, `${i}`);
}

test('members far behind catch up by snapshot: a restarted follower, one killed while installing, and a new member', { skip: missingBinary('etcdctl'), timeout: 300_000 }, async (t) => {
  const seed = Number(process.env.STRATA_TEST_SEED ?? Date.now() % 100_000);
  const random = seededRandom(seed);
  const root = tempDir('strata-cluster-snapshot', t);
  const ports = await Promise.all(['n1', 'n2', 'n3'].map((name) => memberPorts(name)));
  const cluster = initialCluster(ports);
  const members = await startAll(ports, (p, onSpawn) => startMember(p, { root: root.path, cluster, state: 'new', token: TOKEN, extraArgs: SNAPSHOT_FLAGS, onSpawn }));
  t.after(() => stopCluster(members));
  const restart = async (m: ClusterMember): Promise<void> => {
    const started = await startMember(m, { root: root.path, cluster, state: 'new', token: TOKEN, extraArgs: SNAPSHOT_FLAGS });
    m.running = started.running;
  };

  // (a) A follower stopped while the leader's log moves past it is sent a snapshot.
  const leader = await leaderOf(members);
  const follower = members.find((m) => m !== leader)!;
  await follower.running!.stop('SIGTERM');
  await writeHistory(leader, 'a');
  await restart(follower);
  await follower.running!.waitFor((_out, err) => err.includes(INSTALLED), 30_000, `${follower.name} to install a snapshot`);
  await assertSameData(follower, leader, 'after the snapshot');
  const leases = await etcdctl(follower, 'lease', 'list');
  assert.match(leases, /found 1 leases/, 'the lease came with the snapshot');
  await etcdctl(leader, 'put', '/snap/a/later', 'replicated');
  await assertSameData(follower, leader, 'a write after the snapshot replicates');

  // (c) Killed with kill -9 right after the backend arrived or the install (seeded), it restarts consistent.
  const killAt = random() < 0.5 ? RECEIVED : INSTALLED;
  await follower.running!.stop('SIGTERM');
  await writeHistory(leader, 'c');
  await restart(follower);
  const crashing = follower.running!;
  await crashing.waitFor((_out, err) => err.includes(killAt), 30_000, `${follower.name} to log ${killAt} (seed ${seed})`);
  await crashing.stop('SIGKILL');
  await restart(follower);
  await assertSameData(follower, leader, `restarted after kill -9 at ${killAt} (seed ${seed})`);

  // (b) A member added after the log was compacted joins by snapshot: the snapshot sent is at the
  // leader's applied index, so its configuration already holds the new member.
  const n4 = await memberPorts('n4');
  // The strict reconfig check refuses the add until the restarted follower has been connected a while.
  await eventually(async () => {
    const result = await runEtcdctl(['--endpoints', hostPort(leader.clientUrl), 'member', 'add', 'n4', `--peer-urls=${n4.peerUrl}`]);
    assert.ok(result.code === 0 || result.stderr.includes('etcdserver: unhealthy cluster'), result.stderr);
    return result.code === 0;
  }, 'member add to be accepted', 20_000);
  const fourth = await startMember(n4, { root: root.path, cluster: initialCluster([...members, n4]), state: 'existing', token: TOKEN, extraArgs: SNAPSHOT_FLAGS });
  members.push(fourth);
  await fourth.running!.waitFor((_out, err) => err.includes(INSTALLED), 30_000, 'the new member to install a snapshot');
  await assertSameData(fourth, leader, 'the new member');
  await writeHistory(leader, 'b');
  await etcdctl(fourth, 'put', '/snap/b/from-the-new-member', 'yes');
  for (const m of members) await assertSameData(m, leader, `${m.name} after a write through the new member`);
});
