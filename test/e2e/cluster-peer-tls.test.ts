// Issue 4: peer traffic over mutual TLS (--peer-cert-file, --peer-key-file,
// --peer-trusted-ca-file, --peer-client-cert-auth): the members replicate, and a peer
// without a certificate signed by the trusted CA is refused at the handshake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { eventually, makeCerts, missingBinary, runEtcdctl, tempDir } from '../support/index.js';
import { startStrataCluster, stopCluster } from './strata-cluster.js';

function postWithoutCertificate(peerUrl: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL('/raft', peerUrl), { method: 'POST', ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('three members replicate over mutual-TLS peer links; a peer without a client certificate is refused', { skip: missingBinary('etcdctl', 'openssl'), timeout: 120_000 }, async (t) => {
  const root = tempDir('strata-cluster-tls', t);
  const certs = makeCerts(root.path);
  const members = await startStrataCluster(['t1', 't2', 't3'], root.path, 'cluster-tls', [
    '--peer-cert-file', certs.serverCert,
    '--peer-key-file', certs.serverKey,
    '--peer-trusted-ca-file', certs.ca,
    '--peer-client-cert-auth',
  ]);
  t.after(() => stopCluster(members));
  const endpoint = (i: number): string => members[i]!.clientUrl.replace(/^http:\/\//, '');

  await eventually(async () => (await runEtcdctl(['--endpoints', endpoint(0), '--command-timeout=3s', 'put', '/tls/k', 'v'])).code === 0, 'a write to commit');
  const get = await runEtcdctl(['--endpoints', endpoint(2), 'get', '/tls/k', '--print-value-only']);
  assert.equal(get.stdout, 'v\n', get.stderr);

  await assert.rejects(postWithoutCertificate(members[1]!.peerUrl, readFileSync(certs.ca)));
});
