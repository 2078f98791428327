// Bad input to the client commands: each gives one clear line on stderr and a documented exit code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  makeCerts,
  missingBinary,
  runStrata,
  startEtcd,
  tempDir,
  type EtcdProcess,
  type ProcessResult,
  type TestCerts,
} from '../support/index.js';

function oneLine(result: ProcessResult, code: number, pattern: RegExp): void {
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.equal(result.code, code, `exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, '');
}

test('unreachable endpoint: names it, the reason and the fix; exit 1', async () => {
  const dead = `127.0.0.1:${await freePort()}`;
  const result = await runStrata(['get', 'foo', '--endpoints', dead]);
  oneLine(result, 1, new RegExp(`^Error: Cannot connect to etcd at ${dead}: connection refused; check --endpoints and that the server is running$`));
});

test('usage mistakes exit 2 with one line', async () => {
  oneLine(await runStrata(['get', 'foo', '--cacert', '/nonexistent/ca.pem']), 2, /^Error: Cannot read --cacert '\/nonexistent\/ca.pem': no such file; check the path and its permissions$/);
  oneLine(await runStrata(['get', 'foo', '-w', 'yaml']), 2, /^Error: Invalid --write-out 'yaml': expected one of simple, json, table, fields$/);
  oneLine(await runStrata(['get', 'foo', '--dial-timeout', 'soon']), 2, /^Error: Invalid --dial-timeout 'soon'/);
  oneLine(await runStrata(['get', 'foo', '--endpoints', 'nohost']), 2, /^Error: Invalid endpoint 'nohost': expected host:port/);
  oneLine(await runStrata(['get', 'foo', '--prefix', '--from-key']), 2, /cannot be set at the same time/);
  oneLine(await runStrata(['put', 'k', 'v', '--lease', 'xyz']), 2, /^Error: bad lease ID \(xyz\), expecting ID in Hex$/);
  oneLine(await runStrata(['get', 'foo', '--cert', '/dev/null']), 2, /^Error: --cert needs --key/);
  const unknown = await runStrata(['get', 'foo', '--bogus']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--bogus'/);
});

describe('TLS mistakes against a mutual-TLS etcd', { skip: missingBinary('etcd', 'openssl') }, () => {
  let etcd: EtcdProcess;
  let certs: TestCerts;
  let otherCerts: TestCerts;
  let dir: { path: string; remove: () => void };

  before(async () => {
    dir = tempDir('tls-errors');
    certs = makeCerts(join(dir.path));
    const other = join(dir.path, 'other');
    (await import('node:fs')).mkdirSync(other);
    otherCerts = makeCerts(other);
    etcd = await startEtcd({ tls: certs });
  });
  after(async () => {
    await etcd?.stop();
    dir?.remove();
  });

  test('the right certificates work (mutual TLS)', async () => {
    const result = await runStrata(['put', 'k', 'v', '--endpoints', etcd.endpoint, '--cacert', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey]);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, 'OK\n');
  });

  test('a CA that did not sign the server certificate', async () => {
    const result = await runStrata(['get', 'k', '--endpoints', etcd.endpoint, '--cacert', otherCerts.ca, '--cert', certs.clientCert, '--key', certs.clientKey]);
    oneLine(result, 1, /^Error: Cannot connect to etcd at 127\.0\.0\.1:\d+: the server certificate is not signed by a trusted CA \(check --cacert\); check --endpoints/);
  });

  test('no client certificate where the server requires one', async () => {
    const result = await runStrata(['get', 'k', '--endpoints', etcd.endpoint, '--cacert', certs.ca]);
    oneLine(result, 1, /^Error: Cannot connect to etcd at 127\.0\.0\.1:\d+: .*; check --endpoints/);
  });

  test('plain text against a TLS server', async () => {
    const result = await runStrata(['get', 'k', '--endpoints', etcd.endpoint]);
    oneLine(result, 1, /^Error: Cannot connect to etcd at 127\.0\.0\.1:\d+: .*; check --endpoints/);
  });

  test('an unreadable key file is reported without echoing its contents', async () => {
    const badKey = join(dir.path, 'bad-key.pem');
    writeFileSync(badKey, 'SECRET-MARKER-not-a-key\n');
    const result = await runStrata(['get', 'k', '--endpoints', etcd.endpoint, '--cacert', certs.ca, '--cert', certs.clientCert, '--key', badKey]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.split('\n').filter((l) => l !== '').length, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /SECRET-MARKER/);
  });
});

describe('endpoints from flags and ETCDCTL_* environment', { skip: missingBinary('etcd') }, () => {
  let etcd: EtcdProcess;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  test('ETCDCTL_ENDPOINTS and ETCDCTL_WRITE_OUT are honoured; a flag wins over the environment', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const fromEnv = await runStrata(['put', 'env/k', 'v'], { env: { ETCDCTL_ENDPOINTS: etcd.endpoint } });
    assert.equal(fromEnv.stdout, 'OK\n', fromEnv.stderr);
    const flagWins = await runStrata(['get', 'env/k', '--endpoints', etcd.endpoint, '--print-value-only'], {
      env: { ETCDCTL_ENDPOINTS: dead, ETCDCTL_WRITE_OUT: 'simple' },
    });
    assert.equal(flagWins.stdout, 'v\n', flagWins.stderr);
    const jsonFromEnv = await runStrata(['get', 'env/k'], { env: { ETCDCTL_ENDPOINTS: etcd.endpoint, ETCDCTL_WRITE_OUT: 'json' } });
    assert.match(jsonFromEnv.stdout, /^\{"header":/);
  });

  test('failover: the first endpoint down, the second answers; flags before the command work too', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const result = await runStrata(['--endpoints', `${dead},${etcd.endpoint}`, 'put', 'fo/k', 'v']);
    assert.equal(result.stdout, 'OK\n', result.stderr);
    assert.equal(result.code, 0);
  });
});
