import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntryType, MessageType, message, type Message } from '../../../src/raft/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { EtcdError } from '../../../src/api/etcd-errors.js';
import { checkReconfigOnLeader, promoteOnLeader, renewOnLeader, timeToLiveOnLeader } from '../../../src/server/transport/leader-forward.js';
import { fetchClusterMembers } from '../../../src/server/transport/fetch-members.js';
import { PeerSender } from '../../../src/server/transport/peer-sender.js';
import { listenPeer, type PeerServerOptions } from '../../../src/server/transport/peer-server.js';
import { receiveSnapshotBody } from '../../../src/server/transport/snapshot-stream.js';
import { eventually, tempDir } from '../../support/index.js';

const member = { id: 0xa1n, name: 'a', peerUrls: ['http://127.0.0.1:1'], clientUrls: ['http://127.0.0.1:2'], isLearner: false };

async function link(t: { after(fn: () => unknown): void }, receiverCluster: bigint, senderCluster: bigint, removed: readonly bigint[] = []) {
  const dir = tempDir('peer-link', t).path;
  const received: Message[] = [];
  const unreachable: bigint[] = [];
  const snapshotsSent: Array<{ id: bigint; ok: boolean }> = [];
  const backend = join(dir, 'backend');
  const copies: string[] = [];
  let removedReports = 0;
  let wake = (): void => undefined;
  const changed = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  const listenerOptions: PeerServerOptions = {
    clusterId: () => receiverCluster,
    onMessages: (messages) => {
      received.push(...messages);
      wake();
    },
    isRemoved: (id) => removed.includes(id),
    onSnapshot: async (m, dbSize, body) => {
      await receiveSnapshotBody(body, dbSize, join(dir, 'received'));
      received.push(m);
    },
    members: () => [member],
    renewLease: async (id) => {
      if (id !== 5n) throw new EtcdError('leaseNotFound');
      return 42;
    },
    leaseTimeToLive: async (id) => {
      if (id !== 5n) throw new EtcdError('leaseNotFound');
      return { ttl: 17, grantedTtl: 30 };
    },
    promoteMember: async (id) => {
      if (id !== 5n) throw new EtcdError('learnerNotReady');
    },
    checkReconfig: async (change) => {
      if (change.kind === 'add' && !change.isLearner) throw new EtcdError('memberNotEnoughStarted');
      if (change.kind === 'remove' && change.id === 6n) throw new EtcdError('unhealthy');
    },
    tls: undefined,
    clientCertAuth: false,
    maxBodyBytes: 1 << 20,
    logger: silentLogger,
  };
  let listener = await listenPeer(new URL('http://127.0.0.1:0'), listenerOptions);
  const sender = new PeerSender({
    localId: 2n,
    clusterId: () => senderCluster,
    peerUrls: (id) => (id === 1n ? [listener.url] : undefined),
    tls: undefined,
    onUnreachable: (id) => {
      unreachable.push(id);
      wake();
    },
    onRemoved: () => {
      removedReports++;
      wake();
    },
    copyBackend: async () => {
      const path = join(dir, `copy-${copies.length}`);
      writeFileSync(path, readFileSync(backend));
      copies.push(path);
      return { path, metadata: { index: 80, term: 2, confState: { voters: [1n, 0xffff_ffff_ffff_fff0n], learners: [9n], votersOutgoing: [], learnersNext: [], autoLeave: false } }, release: async () => undefined };
    },
    onSnapshotSent: (id, ok) => {
      snapshotsSent.push({ id, ok });
      wake();
    },
    logger: silentLogger,
  });
  t.after(async () => {
    sender.stop();
    await listener.close();
  });
  /** Stops the receiving member and starts it again on the same port. */
  const restartListener = async (): Promise<void> => {
    await listener.close();
    listener = await listenPeer(new URL(listener.url), listenerOptions);
  };
  return { listener, restartListener, sender, received, unreachable, changed, snapshotsSent, backend, dir, copies, removedReports: () => removedReports };
}

test('messages sent to a peer one at a time all arrive, in order', async (t) => {
  const { sender, received, changed } = await link(t, 7n, 7n);
  const sent = Array.from({ length: 300 }, (_, i) => message({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 1, commit: i }));
  for (const m of sent) sender.send([m]);
  while (received.length < sent.length) await changed();
  assert.deepEqual(received, sent);
});

test('a member of another cluster is refused and its peer reported unreachable', async (t) => {
  const { sender, received, unreachable, changed } = await link(t, 7n, 8n);
  sender.send([message({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 1 })]);
  while (unreachable.length === 0) await changed();
  assert.deepEqual(unreachable, [1n]);
  assert.equal(received.length, 0);
});

test('a joining member reads the cluster ID and members from a running peer', async (t) => {
  const { listener } = await link(t, 0xfeed_beef_0000_0001n, 0n);
  const asked: bigint[][] = [];
  const listsMember = (cluster: { members: { id: bigint }[] }): boolean => {
    asked.push(cluster.members.map((m) => m.id));
    return true;
  };
  const remote = await fetchClusterMembers(['http://127.0.0.1:1', listener.url], undefined, listsMember);
  assert.equal(remote.clusterId, 0xfeed_beef_0000_0001n);
  assert.deepEqual(remote.members, [member]);
  assert.deepEqual(asked, [[member.id]]);
  // An answer that lacks what the joining member looks for is still taken when no peer has a better one.
  const only = await fetchClusterMembers([listener.url, listener.url], undefined, () => false);
  assert.deepEqual(only.members, [member]);
  await assert.rejects(fetchClusterMembers(['http://127.0.0.1:1'], undefined, () => true), /Cannot join the cluster: no member in --initial-cluster answered/);
});

test("a follower's keep-alive, lease time-to-live, promotion and strict reconfig check run on the leader; its etcd errors come back; another cluster is refused", async (t) => {
  const { listener } = await link(t, 7n, 7n);
  const leader = { peerUrl: listener.url, clusterId: 7n, tls: undefined };
  assert.equal(await renewOnLeader(leader, 5n), 42);
  await assert.rejects(renewOnLeader(leader, 6n), /requested lease not found/);
  assert.deepEqual(await timeToLiveOnLeader(leader, 5n), { ttl: 17, grantedTtl: 30 });
  await assert.rejects(timeToLiveOnLeader(leader, 6n), /requested lease not found/);
  await promoteOnLeader(leader, 5n);
  await assert.rejects(promoteOnLeader(leader, 6n), /can only promote a learner member which is in sync with leader/);
  await assert.rejects(renewOnLeader({ ...leader, clusterId: 8n }, 5n), /request timed out/);
  await checkReconfigOnLeader(leader, { kind: 'add', isLearner: true });
  await checkReconfigOnLeader(leader, { kind: 'remove', id: 5n });
  await assert.rejects(checkReconfigOnLeader(leader, { kind: 'add', isLearner: false }), /re-configuration failed due to not enough started members/);
  await assert.rejects(checkReconfigOnLeader(leader, { kind: 'remove', id: 6n }), /etcdserver: unhealthy cluster/);
});

test('a MsgSnap streams with a copy of the backend: the peer gets the copy\'s position and the same bytes, and the send is reported done', async (t) => {
  const { sender, received, changed, snapshotsSent, backend, dir } = await link(t, 7n, 7n);
  // Several MiB, so the body spans many chunks on both sides.
  writeFileSync(backend, randomBytes(5 * 1024 * 1024 + 123));
  const confState = { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  const snap = message({ type: MessageType.MsgSnap, to: 1n, from: 2n, term: 3, snapshot: { metadata: { index: 77, term: 2, confState }, data: new Uint8Array(0) } });
  sender.send([snap]);
  while (snapshotsSent.length === 0) await changed();
  assert.deepEqual(snapshotsSent, [{ id: 1n, ok: true }]);
  assert.equal(received.length, 1);
  assert.deepEqual(received[0]!.snapshot?.metadata, { index: 80, term: 2, confState: { voters: [1n, 0xffff_ffff_ffff_fff0n], learners: [9n], votersOutgoing: [], learnersNext: [], autoLeave: false } }, 'the position of the copy sent');
  assert.deepEqual({ ...received[0]!, snapshot: undefined }, { ...snap, snapshot: undefined });
  assert.ok(readFileSync(join(dir, 'received')).equals(readFileSync(backend)));
});

test('a snapshot to a member of another cluster fails and is reported failed; a retry right after fails without copying the backend again', async (t) => {
  const { sender, received, changed, snapshotsSent, backend, copies } = await link(t, 7n, 8n);
  writeFileSync(backend, randomBytes(1000));
  const confState = { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  const snap = message({ type: MessageType.MsgSnap, to: 1n, from: 2n, term: 3, snapshot: { metadata: { index: 5, term: 2, confState }, data: new Uint8Array(0) } });
  sender.send([snap]);
  while (snapshotsSent.length === 0) await changed();
  assert.deepEqual(snapshotsSent, [{ id: 1n, ok: false }]);
  sender.send([snap]);
  assert.deepEqual(snapshotsSent, [{ id: 1n, ok: false }, { id: 1n, ok: false }]);
  assert.equal(copies.length, 1);
  assert.equal(received.length, 0);
});

test('a removed member is answered 410 Gone and learns that it was removed', async (t) => {
  const { sender, received, changed, removedReports } = await link(t, 7n, 7n, [2n]);
  sender.send([message({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 1 })]);
  while (removedReports() === 0) await changed();
  assert.equal(received.length, 0);
});

test('after the receiving member restarts, the stream reports it unreachable, reconnects and delivers again', async (t) => {
  const { sender, received, unreachable, changed, restartListener } = await link(t, 7n, 7n);
  const heartbeat = (commit: number): Message => message({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 1, commit });
  sender.send([heartbeat(1)]);
  await eventually(() => sender.connectedSince(1n) !== undefined, 'the stream to be accepted');
  const acceptedAt = sender.connectedSince(1n);
  await restartListener();
  while (unreachable.length === 0) await changed();
  assert.equal(sender.connectedSince(1n), undefined);
  // As raft does, keep sending (heartbeats) until one gets through the new stream.
  for (let commit = 2; !received.some((m) => m.commit >= 2); commit++) {
    sender.send([heartbeat(commit)]);
    await Promise.race([changed(), new Promise((resolve) => setTimeout(resolve, 20))]);
  }
  await eventually(() => (sender.connectedSince(1n) ?? 0) >= acceptedAt!, 'the new stream to be accepted');
});

test('a member removed while its stream is open has the stream ended, and on reconnecting learns that it was removed', async (t) => {
  const removed: bigint[] = [];
  const { sender, received, changed, removedReports } = await link(t, 7n, 7n, removed);
  sender.send([message({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 1 })]);
  while (received.length < 1) await changed();
  removed.push(2n);
  for (let commit = 1; removedReports() === 0; commit++) {
    sender.send([message({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 1, commit })]);
    await Promise.race([changed(), new Promise((resolve) => setTimeout(resolve, 20))]);
  }
  // Until the receiver next looks (about a second), the stream still delivers: raft drops a removed member's messages itself.
  assert.ok(received.length >= 1);
});

test('a batch of many large messages arrives whole: the stream waits for the peer to drain it', async (t) => {
  const { sender, received, changed } = await link(t, 7n, 7n);
  // 300 messages of 3 KiB in one send: far past a socket's buffer, under the frame limit in 512-message frames.
  const sent = Array.from({ length: 300 }, (_, i) =>
    message({ type: MessageType.MsgApp, to: 1n, from: 2n, term: 1, index: i, entries: [{ type: EntryType.Normal, term: 1, index: i + 1, data: new Uint8Array(3072).fill(i) }] }),
  );
  for (let i = 0; i < sent.length; i += 30) sender.send(sent.slice(i, i + 30));
  while (received.length < sent.length) await changed();
  assert.deepEqual(received, sent);
});
