// A closed client must let its process exit: watch streams and lease keepers that were
// reconnecting to a lost server stop with it (they used to redial forever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildRoot, RunningProcess } from '../support/index.js';
import { etcdAndStrata } from '../e2e/strata-server.js';

// Runs in a child so that "the process exits by itself" is what is checked.
const child = `
const { EtcdClient } = await import(process.argv[1]);
const { createLogger } = await import(process.argv[2]);
const logger = createLogger(process.stderr, 'debug');
const client = new EtcdClient({ endpoints: [process.argv[3]], logger, retry: { baseDelayMs: 20, maxDelayMs: 100, maxRounds: 2 } });
const lease = await client.leaseGrant(60);
client.keepAlive(lease.ID);
const watch = client.watchStream().watch({ key: 'close/x' });
watch.on('error', () => undefined);
watch.once('created', () => process.stdout.write('watching\\n'));
process.on('SIGUSR2', () => {
  client.close();
  process.stdout.write('closed\\n');
});
`;

for (const server of etcdAndStrata) {
  test(`a closed client's reconnecting watch stream and lease keeper let the process exit (${server.name})`, { skip: server.skip, timeout: 90_000 }, async (t) => {
    const etcd = await server.start();
    t.after(() => etcd.stop());
    const running = new RunningProcess(
      process.execPath,
      ['--input-type=module', '-e', child, join(buildRoot, 'src/client/client.js'), join(buildRoot, 'src/util/log.js'), etcd.endpoint],
      { timeoutMs: 60_000 },
    );
    await running.waitFor((out) => out.includes('watching\n'), 30_000, 'the watch to be created');
    await etcd.halt();
    await running.waitFor((_out, err) => err.includes('watch stream reconnect failed'), 30_000, 'the watch stream to be redialing');
    running.child.kill('SIGUSR2');
    const result = await running.exited;
    assert.equal(result.signal, null, `the child was killed at its deadline instead of exiting after close():\n${result.stderr.slice(-2000)}`);
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    assert.match(result.stdout, /closed\n/);
  });
}
