import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { EntryType, MessageType, message } from '../../../src/raft/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { PeerStream } from '../../../src/server/transport/peer-stream.js';

test('a peer that accepts the stream but stops reading: queued messages past the limit and then the stalled stream are reported unreachable', async (t) => {
  // Answers 200 as a member does, then never reads the body, as a member that hangs would.
  const server = http.createServer((req, res) => {
    req.pause();
    res.writeHead(200).flushHeaders();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let unreachable = 0;
  let wake = (): void => undefined;
  const stream = new PeerStream({
    peerId: 1n,
    localId: 2n,
    clusterId: () => 7n,
    peerUrls: () => [url],
    tls: undefined,
    onUnreachable: () => {
      unreachable++;
      wake();
    },
    onRemoved: () => assert.fail('not removed'),
    logger: silentLogger,
  });
  t.after(() => {
    stream.stop();
    server.closeAllConnections();
    server.close();
  });
  const entry = (i: number) => ({ type: EntryType.Normal, term: 1, index: i, data: new Uint8Array(4096) });
  // Frames of 64 messages of 4 KiB until the queue overflows: far more than the socket buffers take.
  for (let i = 0; i < 4096 && unreachable === 0; i++) {
    stream.send(Array.from({ length: 64 }, (_, j) => message({ type: MessageType.MsgApp, to: 1n, from: 2n, term: 1, index: i * 64 + j, entries: [entry(i * 64 + j)] })));
  }
  assert.ok(unreachable > 0, 'a full queue reports the peer unreachable at once');
  const reported = unreachable;
  // The stall timer gives the stream up: reported again, and the stream is no longer counted connected.
  while (unreachable === reported) await new Promise<void>((resolve) => (wake = resolve));
  assert.equal(stream.connectedSince, undefined);
});
