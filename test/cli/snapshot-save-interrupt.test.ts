// A save, verify or status stopped by SIGINT or SIGTERM (Ctrl-C, a cron or systemd timeout)
// removes what it wrote: the spooled etcd image is as large as the database, and one left per
// interrupted nightly run would fill TMPDIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { openSync, readdirSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { EtcdClient } from '../../src/client/client.js';
import { generateHistory, writeArchive } from '../archive/history.js';
import { eventually, missingBinary, startEtcd, startStrata, tempDir } from '../support/index.js';

const MiB = 2 ** 20;

/**
 * A TCP relay in front of `port` that passes the server's first `budget` bytes and then holds
 * the rest: a save through it stops part-way into the snapshot stream and stays there.
 */
async function stallingRelay(port: number, budget: number): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    let passed = 0;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const room = budget - passed;
      if (room <= 0) return upstream.pause();
      client.write(chunk.subarray(0, room));
      passed += Math.min(room, chunk.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('snapshot save interrupted while it spools an etcd image exits 130 and leaves no file behind', { skip: missingBinary('etcd'), timeout: 120_000 }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const client = new EtcdClient({ endpoints: [etcd.endpoint], requestTimeoutMs: 30_000 });
  t.after(() => client.close());
  // About 8 MiB of values, so that the image is still arriving when the relay holds it.
  for (let i = 0; i < 32; i++) await client.put({ key: `/big/${i}`, value: Buffer.alloc(MiB / 4, i) });

  const relay = await stallingRelay(Number(etcd.endpoint.split(':')[1]), 2 * MiB);
  t.after(() => relay.close());
  const tmp = tempDir('interrupt-tmp', t);
  const dest = tempDir('interrupt-dest', t);
  const save = startStrata(['snapshot', 'save', `${dest.path}/`, '--endpoints', `127.0.0.1:${relay.port}`], { env: { TMPDIR: tmp.path }, timeoutMs: 60_000 });
  await eventually(() => readdirSync(tmp.path).some((name) => name.startsWith('strata-etcd-snapshot-')), 'the spooled image in TMPDIR');
  const result = await save.stop('SIGINT');

  assert.equal(result.code, 130, `exit code (signal ${result.signal}; stderr: ${result.stderr})`);
  assert.equal(result.stderr.trimEnd().split('\n').at(-1), 'Error: interrupted by SIGINT; its temporary files are removed');
  assert.deepEqual(readdirSync(tmp.path), []);
  assert.deepEqual(readdirSync(dest.path), []);
});

test('snapshot verify interrupted while its reading thread waits for the archive exits 143 and removes that thread\'s directory', async (t) => {
  const { bytes } = await writeArchive(generateHistory(1, { revisions: 2_000, keys: 300, valueBytes: 200, compactAt: 0, leases: 0 }), { chunkBytes: 32 * 1024 });
  const dir = tempDir('interrupt-verify', t);
  const tmp = tempDir('interrupt-verify-tmp', t);
  // A named pipe fed half an archive and held open: the reading thread waits there for the rest.
  const fifo = join(dir.path, 'half.tar.zst');
  execFileSync('mkfifo', [fifo]);
  const verify = startStrata(['snapshot', 'verify', fifo], { env: { TMPDIR: tmp.path }, timeoutMs: 60_000 });
  const writer = openSync(fifo, 'w');
  writeSync(writer, bytes.subarray(0, bytes.length >> 1));
  await eventually(() => readdirSync(tmp.path).some((name) => name.startsWith('strata-inspect-')), "the reading thread's directory in TMPDIR");
  verify.child.kill('SIGTERM');
  await verify.waitFor((_out, err) => err.includes('interrupted'), 15_000, 'the interrupt line');
  // Node joins its I/O threads on exit, and one is blocked reading the pipe: end the pipe.
  closeSync(writer);
  const result = await verify.exited;

  assert.equal(result.code, 143, `exit code (signal ${result.signal}; stderr: ${result.stderr})`);
  assert.equal(result.stderr.trimEnd().split('\n').at(-1), 'Error: interrupted by SIGTERM; its temporary files are removed');
  assert.deepEqual(readdirSync(tmp.path), []);
});
