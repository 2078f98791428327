// Issue 4: a follower killed with kill -9 restarts from its data dir and catches up, a follower
// forwards lease keep-alives to the leader, member changes that would lose quorum are refused
// (etcd's --strict-reconfig-check), and a member cut off from the majority refuses
// writes and linearizable reads with etcd's "no leader" error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, missingBinary, runEtcdctl, tempDir } from '../support/index.js';
import { initialCluster, startMember, startStrataCluster, stopCluster, type ClusterMember } from './strata-cluster.js';

function etcdctl(member: ClusterMember, ...args: string[]) {
  return runEtcdctl(['--endpoints', member.clientUrl.replace(/^http:\/\//, ''), '--command-timeout=3s', ...args]);
}

test('a killed follower restarts and catches up; keep-alive through a follower reaches the leader; strict reconfig check refuses changes without a connected quorum; a minority member answers "no leader"', { skip: missingBinary('etcdctl'), timeout: 120_000 }, async (t) => {
  const root = tempDir('strata-cluster-faults', t);
  const members = await startStrataCluster(['f1', 'f2', 'f3'], root.path, 'cluster-faults');
  const cluster = initialCluster(members);
  t.after(() => stopCluster(members));

  let leaderIndex = -1;
  await eventually(async () => {
    const flags = await Promise.all(
      members.map(async (m) => {
        const status = await etcdctl(m, 'endpoint', 'status', '-w', 'table');
        return status.stdout.split('\n').some((line) => line.startsWith('| 127.0.0.1') && line.split('|')[5]!.trim() === 'true');
      }),
    );
    leaderIndex = flags.indexOf(true);
    return flags.filter(Boolean).length === 1;
  }, 'one leader');
  const follower = members[(leaderIndex + 1) % 3]!;

  await follower.running!.stop('SIGKILL');
  for (let i = 0; i < 20; i++) assert.equal((await etcdctl(members[leaderIndex]!, 'put', `/while-down/${i}`, `${i}`)).code, 0);
  const restarted = await startMember(follower, { root: root.path, cluster, state: 'new', token: 'cluster-faults' });
  follower.running = restarted.running;
  const caughtUp = await etcdctl(follower, 'get', '/while-down/', '--prefix', '--keys-only', '-w', 'fields');
  assert.equal(caughtUp.code, 0, caughtUp.stderr);
  assert.match(caughtUp.stdout, /"Count" : 20/, 'a linearizable read on the restarted member sees every write made while it was down');


  const grant = await etcdctl(members[leaderIndex]!, 'lease', 'grant', '30');
  assert.equal(grant.code, 0, grant.stderr);
  const leaseId = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1]!;
  const keepAlive = await etcdctl(follower, 'lease', 'keep-alive', '--once', leaseId);
  assert.equal(keepAlive.code, 0, keepAlive.stderr);
  assert.match(keepAlive.stdout, new RegExp(`lease ${leaseId} keepalived with TTL\\(30\\)`));
  // The follower answers time-to-live from the leader's lessor, which the keep-alives renew.
  const ttl = await etcdctl(follower, 'lease', 'timetolive', leaseId);
  assert.equal(ttl.code, 0, ttl.stderr);
  assert.match(ttl.stdout, new RegExp(`lease ${leaseId} granted with TTL\\(30s\\), remaining\\((2[0-9]|30)s\\)`));

  // --strict-reconfig-check: with one of three down, adding a voter or removing a running one
  // would leave no quorum of connected members, so both are refused; the down one may go.
  const third = members.find((m) => m !== follower && m !== members[leaderIndex])!;
  const ids = new Map((await etcdctl(members[leaderIndex]!, 'member', 'list')).stdout.trim().split('\n').map((row) => [row.split(', ')[2]!, row.split(', ')[0]!]));
  await third.running!.stop('SIGKILL');
  const add = await etcdctl(follower, 'member', 'add', 'extra', '--peer-urls=http://127.0.0.1:9');
  assert.notEqual(add.code, 0);
  assert.match(add.stderr, /etcdserver: unhealthy cluster/);
  const remove = await etcdctl(members[leaderIndex]!, 'member', 'remove', ids.get(follower.name)!);
  assert.notEqual(remove.code, 0);
  assert.match(remove.stderr, /etcdserver: unhealthy cluster/);
  const restartedThird = await startMember(third, { root: root.path, cluster, state: 'new', token: 'cluster-faults' });
  third.running = restartedThird.running;

  // Leave `follower` alone: the other two go away, so it can reach no quorum.
  await Promise.all(
    members.filter((m) => m !== follower).map(async (m) => {
      await m.running!.stop('SIGKILL');
      m.running = undefined;
    }),
  );
  await eventually(async () => {
    const put = await etcdctl(follower, 'put', '/minority', 'x');
    return put.code !== 0 && put.stderr.includes('etcdserver: no leader');
  }, 'a write on the minority to fail with "no leader"', 20_000);
  const get = await etcdctl(follower, 'get', '/minority');
  assert.notEqual(get.code, 0);
  assert.match(get.stderr, /etcdserver: no leader/);
  const serializable = await etcdctl(follower, 'get', '/minority', '--consistency=s');
  assert.equal(serializable.code, 0, 'a serializable read is served from the local state');
});

test('a removed member exits: one restarted after its removal is answered "removed" by its peers, a removed leader once the others know', { skip: missingBinary('etcdctl'), timeout: 120_000 }, async (t) => {
  const root = tempDir('strata-cluster-removed', t);
  const members = await startStrataCluster(['r1', 'r2', 'r3'], root.path, 'cluster-removed');
  const cluster = initialCluster(members);
  t.after(() => stopCluster(members));
  const removedMessage = 'the member has been permanently removed from the cluster';
  const writable = (m: ClusterMember): Promise<void> => eventually(async () => (await etcdctl(m, 'put', '/writable', 'yes')).code === 0, 'a leader', 20_000);
  const list = await etcdctl(members[0]!, 'member', 'list');
  assert.equal(list.code, 0, list.stderr);
  const ids = new Map(list.stdout.trim().split('\n').map((row) => [row.split(', ')[2]!, row.split(', ')[0]!]));

  // Stopped, removed, then started again on its old data dir.
  const gone = members[2]!;
  await gone.running!.stop('SIGTERM');
  gone.running = undefined;
  await writable(members[0]!);
  const removeGone = await etcdctl(members[0]!, 'member', 'remove', ids.get(gone.name)!);
  assert.equal(removeGone.code, 0, removeGone.stderr);
  const restarted = await startMember(gone, { root: root.path, cluster, state: 'new', token: 'cluster-removed' }).then(
    async (m) => {
      gone.running = m.running;
      return m.running!.exited;
    },
    (err: Error) => ({ code: 1, stderr: err.message }),
  );
  assert.notEqual(restarted.code, 0);
  assert.ok(restarted.stderr.includes(removedMessage), restarted.stderr);

  // The leader removed while running: it stops by itself once the others know, and the process exits.
  const status = await etcdctl(members[0]!, 'endpoint', 'status', '-w', 'json');
  const leaderId = BigInt(/"leader":(\d+)/.exec(status.stdout)![1]!);
  const other = members.find((m) => m !== gone && BigInt(`0x${ids.get(m.name)!}`) === leaderId)!;
  const kept = members.find((m) => m !== gone && m !== other)!;
  // A leader elected just now has not been connected long enough for the strict reconfig check.
  await eventually(async () => {
    const removeOther = await etcdctl(kept, 'member', 'remove', ids.get(other.name)!);
    assert.ok(removeOther.code === 0 || removeOther.stderr.includes('etcdserver: unhealthy cluster'), removeOther.stderr);
    return removeOther.code === 0;
  }, `${other.name} to be removed`, 20_000);
  const exited = await other.running!.exited;
  assert.notEqual(exited.code, 0);
  assert.ok(exited.stderr.includes(removedMessage), exited.stderr);
  other.running = undefined;
  const put = await etcdctl(kept, 'put', '/alone', 'yes');
  assert.equal(put.code, 0, put.stderr);
});
