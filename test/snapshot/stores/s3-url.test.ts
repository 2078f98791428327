import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveEndpoint } from '../../../src/snapshot/stores/s3-client.js';
import { S3Store } from '../../../src/snapshot/stores/s3-store.js';
import { parseS3Url } from '../../../src/snapshot/stores/s3-url.js';

describe('parseS3Url', () => {
  it('tells one object from a prefix and keeps keys byte for byte', () => {
    assert.deepEqual(parseS3Url('s3://snaps/prod/x%20y.tar.zst'), { bucket: 'snaps', key: 'prod/x%20y.tar.zst', isPrefix: false });
    assert.deepEqual(parseS3Url('s3://snaps/prod/'), { bucket: 'snaps', key: 'prod/', isPrefix: true });
    assert.deepEqual(parseS3Url('s3://snaps'), { bucket: 'snaps', key: '', isPrefix: true });
  });

  it('refuses what is not an S3 location', () => {
    for (const bad of ['snaps/x', 's3://', 's3:///x', 's3://Upper/x', 'file:///x']) {
      assert.throws(() => parseS3Url(bad), { code: 'STRATA_USAGE', message: `Invalid S3 location '${bad}': expected s3://bucket/key or s3://bucket/prefix/ with a valid bucket name` });
    }
  });
});

describe('resolveEndpoint', () => {
  it('takes the option first and refuses an endpoint without a scheme', () => {
    assert.equal(resolveEndpoint({ endpoint: 'http://127.0.0.1:9000' }), 'http://127.0.0.1:9000');
    assert.throws(() => resolveEndpoint({ endpoint: 'minio:9000' }), { code: 'STRATA_USAGE', message: /^Invalid S3 endpoint 'minio:9000'/ });
  });
});

describe('S3Store.fromUrl', () => {
  it('refuses a KMS key id without aws:kms encryption', () => {
    assert.throws(() => S3Store.fromUrl('s3://snaps/k', { endpoint: 'http://127.0.0.1:9', sse: 'AES256', sseKmsKeyId: 'key-1' }), {
      code: 'STRATA_USAGE',
      message: "Invalid S3 options for s3://snaps/k: a KMS key id needs server-side encryption 'aws:kms'",
    });
  });
});
