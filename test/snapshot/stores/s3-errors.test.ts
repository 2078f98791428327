import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
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
async function failIn(operation: 'createWriter' | 'openReader' | 'list', url: string, endpoint: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
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
