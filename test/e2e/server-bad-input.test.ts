// Must show (issue 2): bad input gets one clear line, a documented exit code, and no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort, missingBinary, runEtcdctl, runStrata, startEtcd, tempDir, type ProcessResult } from '../support/index.js';
import { serverArgs, startStrataServer } from './strata-server.js';

function assertOneLineError(result: ProcessResult, exitCode: number, pattern: RegExp): void {
  assert.equal(result.code, exitCode, `exit code (stderr: ${result.stderr})`);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  const errorLines = result.stderr.split('\n').filter((line) => /^(Error|error):/.test(line));
  assert.equal(errorLines.length, 1, `one error line, got:\n${result.stderr}`);
}

test('unknown and malformed server flags are usage errors (exit 2)', async (t) => {
  const dir = tempDir('badflags', t);
  assertOneLineError(await runStrata(['server', '--no-such-flag']), 2, /unknown option '--no-such-flag'/);
  const { args } = await serverArgs({ dataDir: join(dir.path, 'd') });
  assertOneLineError(
    await runStrata([...args, '--election-timeout', '300']),
    2,
    /Invalid --election-timeout 300: it must be at least 5 times --heartbeat-interval \(100 ms\)/,
  );
  assertOneLineError(await runStrata([...args, '--snapshot-count', 'lots']), 2, /Invalid --snapshot-count 'lots'/);
  assertOneLineError(
    await runStrata(['server', '--data-dir', join(dir.path, 'e')], { env: { ETCD_LISTEN_CLIENT_URLS: 'localhost' } }),
    2,
    /Invalid URL 'localhost' in ETCD_LISTEN_CLIENT_URLS/,
  );
});

test('a client port in use is one line naming the URL and the flag (exit 1)', async (t) => {
  const dir = tempDir('portinuse', t);
  const port = await freePort();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const { args } = await serverArgs({ dataDir: join(dir.path, 'd'), clientPort: port });
  assertOneLineError(
    await runStrata(args),
    1,
    new RegExp(`Cannot listen on http://127\\.0\\.0\\.1:${port} \\(--listen-client-urls\\): address already in use`),
  );
});

test('a second server on the same data dir is refused (exit 1)', async (t) => {
  const dir = tempDir('locked', t);
  const dataDir = join(dir.path, 'd');
  const first = await startStrataServer({ dataDir });
  t.after(() => first.stop());
  const { args } = await serverArgs({ dataDir });
  const second = await runStrata(args);
  assertOneLineError(second, 1, /Cannot use data dir .*: it is in use by strata server pid \d+/);
});

test('missing, unreadable or invalid TLS files are named (exit 2)', async (t) => {
  const dir = tempDir('tls', t);
  const notPem = join(dir.path, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  const secret = join(dir.path, 'secret.pem');
  writeFileSync(secret, 'x');
  chmodSync(secret, 0o000);
  const { args } = await serverArgs({ dataDir: join(dir.path, 'd'), tls: true });
  assertOneLineError(
    await runStrata([...args, '--cert-file', join(dir.path, 'missing.pem'), '--key-file', notPem]),
    2,
    /Cannot read --cert-file '.*missing\.pem': no such file/,
  );
  assertOneLineError(
    await runStrata([...args, '--cert-file', notPem, '--key-file', notPem]),
    2,
    /Cannot use --cert-file '.*not\.pem': it is not a PEM certificate/,
  );
  if (process.getuid?.() !== 0) {
    // root reads any file, so permission errors can only be seen as another user.
    assertOneLineError(await runStrata([...args, '--cert-file', secret, '--key-file', notPem]), 2, /permission denied/);
  }
});

test("a request over --max-request-bytes gets etcd's error from both servers", { skip: missingBinary('etcd', 'etcdctl') }, async (t) => {
  const dir = tempDir('toolarge', t);
  const strata = await startStrataServer({ dataDir: join(dir.path, 'd') });
  t.after(() => strata.stop());
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const big = Buffer.alloc(1_600_000, 'v'); // over 1.5 MiB, under the gRPC limit (+512 KiB)
  for (const endpoint of [etcd.clientUrl, strata.clientUrl]) {
    const result = await runEtcdctl([`--endpoints=${endpoint}`, 'put', 'big'], { input: big });
    assert.equal(result.code, 1, endpoint);
    assert.match(result.stderr, /Error: etcdserver: request is too large/, endpoint);
  }
  const ok = await runEtcdctl([`--endpoints=${strata.clientUrl}`, 'put', 'fits'], { input: Buffer.alloc(1_000_000, 'v') });
  assert.equal(ok.code, 0, ok.stderr);
});
