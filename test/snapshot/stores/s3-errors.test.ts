import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { s3Error } from '../../../src/snapshot/stores/s3-errors.js';
import { buildRoot, runProcess } from '../../support/index.js';
import { s3rverCredentials, startS3rver } from '../../support/s3rver.js';

const storeModule = pathToFileURL(join(buildRoot, 'src', 'snapshot', 'stores', 's3-store.js')).href;

interface Outcome {
  code: string;
  exitCode: number;
  message: string;
  stderr: string;
}

/**
 * Runs one store operation in a fresh process, as the CLI would, so that the process's own
 * stderr (the SDK's Node version warning, stray logs) is checked too.
 */
async function failIn(operation: 'preflight' | 'createWriter' | 'openReader' | 'list', url: string, endpoint: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const script = `
    import { S3Store } from ${JSON.stringify(storeModule)};
    const store = S3Store.fromUrl(${JSON.stringify(url)}, { endpoint: ${JSON.stringify(endpoint)} });
    try {
      await store.${operation}('x');
      console.log(JSON.stringify({ code: 'none' }));
    } catch (err) {
      console.log(JSON.stringify({ code: err.code, exitCode: err.exitCode, message: err.message }));
    }
    store.destroy();`;
  const result = await runProcess(process.execPath, ['--input-type=module', '-e', script], { env, timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  return { ...(JSON.parse(result.stdout) as Omit<Outcome, 'stderr'>), stderr: result.stderr };
}

describe('S3Store errors are one line naming the location and the fix', () => {
  it('wrong credentials, a missing bucket and an unreachable endpoint', async (t) => {
    const s3 = await startS3rver(t, ['snaps']);
    const secret = 'TOP-SECRET-VALUE-42';

    // s3rver knows one access key id and does not check v4 signatures: a wrong key id is what it refuses.
    const denied = await failIn('createWriter', 's3://snaps/k.tar.zst', s3.endpoint, { AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: secret });
    assert.deepEqual(denied, {
      code: 'STRATA_S3_ACCESS_DENIED',
      exitCode: 1,
      message: 'Cannot write s3://snaps/k.tar.zst: access denied (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID/AWS_PROFILE and the bucket policy',
      stderr: '',
    });
    const deniedList = await failIn('list', 's3://snaps/p/', s3.endpoint, { AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: secret });
    assert.equal(deniedList.message, 'Cannot list s3://snaps/p/: access denied (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID/AWS_PROFILE and the bucket policy');

    const noBucket = await failIn('openReader', 's3://nobucket/k.tar.zst', s3.endpoint, { ...s3rverCredentials });
    assert.deepEqual(noBucket, {
      code: 'STRATA_S3_NO_BUCKET',
      exitCode: 1,
      message: "Cannot read s3://nobucket/k.tar.zst: bucket 'nobucket' does not exist; create it or check the URL",
      stderr: '',
    });
    const noBucketWrite = await failIn('createWriter', 's3://nobucket/p/', s3.endpoint, { ...s3rverCredentials });
    assert.equal(noBucketWrite.code, 'STRATA_S3_NO_BUCKET');

    // Port 9 (discard) on loopback: nothing listens there on a test machine.
    const unreachable = await failIn('createWriter', 's3://snaps/k.tar.zst', 'http://127.0.0.1:9', { ...s3rverCredentials });
    assert.deepEqual(unreachable, {
      code: 'STRATA_S3_UNREACHABLE',
      exitCode: 1,
      message:
        'Cannot write s3://snaps/k.tar.zst: cannot reach http://127.0.0.1:9: connection refused; check --s3-endpoint (or AWS_ENDPOINT_URL_S3) and the network',
      stderr: '',
    });

    // What a save checks before it reads its source gives the same lines.
    const preflights = await Promise.all([
      failIn('preflight', 's3://snaps/k.tar.zst', s3.endpoint, { AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: secret }),
      failIn('preflight', 's3://nobucket/p/', s3.endpoint, { ...s3rverCredentials }),
      failIn('preflight', 's3://snaps/k.tar.zst', 'http://127.0.0.1:9', { ...s3rverCredentials }),
      failIn('preflight', 's3://snaps/p/', s3.endpoint, { ...s3rverCredentials }),
    ]);
    assert.deepEqual(
      preflights.map((o) => [o.code, o.message]),
      [
        [denied.code, denied.message],
        ['STRATA_S3_NO_BUCKET', "Cannot write s3://nobucket/p/: bucket 'nobucket' does not exist; create it or check the URL"],
        [unreachable.code, unreachable.message],
        ['none', undefined],
      ],
    );

    for (const outcome of [denied, deniedList, noBucket, noBucketWrite, unreachable]) {
      assert.ok(!outcome.message.includes('\n') && !outcome.message.includes(secret), outcome.message);
    }
  });

  it('the endpoint comes from AWS_ENDPOINT_URL_S3 when no option names one', async (t) => {
    const s3 = await startS3rver(t, ['snaps']);
    const script = `
      import { S3Store } from ${JSON.stringify(storeModule)};
      const store = S3Store.fromUrl('s3://snaps/p/');
      console.log(JSON.stringify(await store.list()));
      store.destroy();`;
    const result = await runProcess(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...s3rverCredentials, AWS_ENDPOINT_URL_S3: s3.endpoint },
      timeoutMs: 60_000,
    });
    assert.deepEqual({ code: result.code, stdout: result.stdout, stderr: result.stderr }, { code: 0, stdout: '[]\n', stderr: '' });
  });
});

describe('s3Error', () => {
  const ctx = { action: 'write', location: 's3://b/k', bucket: 'b', endpoint: 'http://10.0.0.1:9000' } as const;

  it('names a connection timeout and a missing credential chain in our own words', () => {
    const timeout = Object.assign(new Error('@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 10000 ms.'), { name: 'TimeoutError' });
    assert.equal(s3Error(ctx, timeout).message, 'Cannot write s3://b/k: cannot reach http://10.0.0.1:9000: connection timed out; check --s3-endpoint (or AWS_ENDPOINT_URL_S3) and the network');
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    assert.deepEqual(
      [s3Error(ctx, noCredentials).code, s3Error(ctx, noCredentials).message],
      ['STRATA_S3_NO_CREDENTIALS', 'Cannot write s3://b/k: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE'],
    );
  });

  it('keeps an unknown failure to its first line', () => {
    const odd = Object.assign(new Error('first line\nsecond line'), { name: 'SlowDown' });
    assert.equal(s3Error(ctx, odd).message, 'Cannot write s3://b/k: SlowDown: first line');
  });
});
