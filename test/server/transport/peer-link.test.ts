import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, message, type Message } from '../../../src/raft/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { EtcdError } from '../../../src/api/etcd-errors.js';
import { renewOnLeader } from '../../../src/server/transport/lease-forward.js';
import { fetchClusterMembers } from '../../../src/server/transport/fetch-members.js';
import { PeerSender } from '../../../src/server/transport/peer-sender.js';
import { listenPeer } from '../../../src/server/transport/peer-server.js';

const member = { id: 0xa1n, name: 'a', peerUrls: ['http://127.0.0.1:1'], clientUrls: ['http://127.0.0.1:2'], isLearner: false };

async function link(t: { after(fn: () => unknown): void }, receiverCluster: bigint, senderCluster: bigint) {
  const received: Message[] = [];
  const unreachable: bigint[] = [];
  let wake = (): void => undefined;
  const changed = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  const listener = await listenPeer(new URL('http://127.0.0.1:0'), {
    clusterId: () => receiverCluster,
    onMessages: (messages) => {
      received.push(...messages);
      wake();
    },
    members: () => [member],
    renewLease: async (id) => {
      if (id !== 5n) throw new EtcdError('leaseNotFound');
      return 42;
    },
    tls: undefined,
    clientCertAuth: false,
    maxBodyBytes: 1 << 20,
    logger: silentLogger,
  });
  const sender = new PeerSender({
    localId: 2n,
    clusterId: () => senderCluster,
    peerUrls: (id) => (id === 1n ? [listener.url] : undefined),
    tls: undefined,
    onUnreachable: (id) => {
      unreachable.push(id);
      wake();
    },
    onSnapshotUnsent: () => undefined,
    logger: silentLogger,
  });
  t.after(async () => {
    sender.stop();
    await listener.close();
  });
  return { listener, sender, received, unreachable, changed };
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
  const remote = await fetchClusterMembers(['http://127.0.0.1:1', listener.url], undefined);
  assert.equal(remote.clusterId, 0xfeed_beef_0000_0001n);
  assert.deepEqual(remote.members, [member]);
  await assert.rejects(fetchClusterMembers(['http://127.0.0.1:1'], undefined), /Cannot join the cluster: no member in --initial-cluster answered/);
});

test("a follower's keep-alive renews on the leader; an unknown lease or another cluster gets etcd's errors", async (t) => {
  const { listener } = await link(t, 7n, 7n);
  assert.equal(await renewOnLeader(listener.url, 5n, 7n, undefined), 42);
  await assert.rejects(renewOnLeader(listener.url, 6n, 7n, undefined), /requested lease not found/);
  await assert.rejects(renewOnLeader(listener.url, 5n, 8n, undefined), /request timed out/);
});
