// Must show (issue 3, item 5) through the CLI: save to an s3:// prefix on a real S3-protocol
// server (s3rver, a child process on 127.0.0.1), then ls, status and verify reading from s3://.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EtcdClient } from '../../src/client/client.js';
import { runStrata, tempDir } from '../support/index.js';
import { s3rverCredentials, startS3rver } from '../support/s3rver.js';
import { startStrataServer } from './strata-server.js';

test('snapshot save to s3://bucket/prefix/, then ls, status and verify --against from s3://', async (t) => {
  const s3 = await startS3rver(t, ['backups']);
  const dir = tempDir('snapshot-s3', t);
  const server = await startStrataServer({ dataDir: join(dir.path, 'd') });
  t.after(() => server.stop());
  const client = new EtcdClient({ endpoints: [server.endpoint] });
  t.after(() => client.close());
  for (let i = 0; i < 300; i++) await client.put({ key: `/s3/${i}`, value: `value-${i}` });
  await client.deleteRange({ key: '/s3/7' });

  const env = { ...s3rverCredentials, AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1' };
  const save = await runStrata(['snapshot', 'save', 's3://backups/nightly/', '--endpoints', server.endpoint, '--json'], { env, timeoutMs: 60_000 });
  assert.equal(save.code, 0, save.stderr);
  const summary = JSON.parse(save.stdout) as { location: string; revision: number; totalKey: number };
  assert.match(summary.location, /^s3:\/\/backups\/nightly\/[0-9a-f]+-\d{8}T\d{6}Z-r\d+\.tar\.zst$/);
  assert.equal(summary.totalKey, 299);

  const ls = await runStrata(['snapshot', 'ls', 's3://backups/nightly/', '-w', 'json'], { env });
  assert.equal(ls.code, 0, ls.stderr);
  const listed = JSON.parse(ls.stdout) as Array<{ location: string }>;
  assert.deepEqual(listed.map((s) => s.location), [summary.location]);

  const status = await runStrata(['snapshot', 'status', summary.location, '-w', 'json'], { env });
  assert.equal(status.code, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as { revision: number; totalKey: number };
  assert.equal(parsed.revision, summary.revision);
  assert.equal(parsed.totalKey, 299);

  const verify = await runStrata(['snapshot', 'verify', summary.location, '--against', server.endpoint], { env, timeoutMs: 60_000 });
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /equals the cluster's/);

  const missing = await runStrata(['snapshot', 'status', 's3://nobucket/x.tar.zst'], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /bucket 'nobucket' does not exist/);
});
