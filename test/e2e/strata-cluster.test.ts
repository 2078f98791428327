import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { tempDir, type RunningProcess } from '../support/index.js';
import { initialCluster, memberPorts, startAll, startMember } from './strata-cluster.js';

test('a cluster that cannot start every member kills the ones that did, and says why', async (t) => {
  const ports = await Promise.all(['a1', 'a2', 'a3'].map((name) => memberPorts(name)));
  // Something else holds a2's client port.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(Number(new URL(ports[1]!.clientUrl).port), '127.0.0.1', resolve));
  t.after(() => squatter.close());
  const cluster = initialCluster(ports);
  const root = tempDir('strata-cluster-start', t).path;
  const spawned: RunningProcess[] = [];
  // Should this test fail, the members it started must not keep its process alive.
  t.after(() => Promise.all(spawned.map((running) => running.stop('SIGKILL'))));
  await assert.rejects(
    startAll(ports, (p, onSpawn) =>
      startMember(p, {
        root,
        cluster,
        state: 'new',
        token: 'start-all',
        onSpawn: (running) => {
          spawned.push(running);
          onSpawn(running);
        },
      }),
    ),
    /address already in use/,
  );
  assert.equal(spawned.length, 3);
  for (const running of spawned) assert.notEqual(running.child.exitCode ?? running.child.signalCode, null, `pid ${running.child.pid} still runs`);
});
