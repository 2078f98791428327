import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEndpoint, parseEndpoints } from '../../src/client/endpoints.js';
import { prefixRangeEnd } from '../../src/client/keys.js';
import { backoffDelay, defaultRetryPolicy } from '../../src/client/retry.js';
import { seededRandom } from '../support/index.js';

test('endpoints: host:port, http:// and https:// as etcdctl accepts them', () => {
  assert.deepEqual(parseEndpoint('127.0.0.1:2379'), { text: '127.0.0.1:2379', address: '127.0.0.1:2379', host: '127.0.0.1', secure: undefined });
  assert.deepEqual(parseEndpoint('https://localhost:2379/'), { text: 'https://localhost:2379/', address: 'localhost:2379', host: 'localhost', secure: true });
  assert.equal(parseEndpoint('http://[::1]:2379').host, '::1');
  assert.equal(parseEndpoint('http://[::1]:2379').secure, false);
  assert.deepEqual(parseEndpoints(['a:1,b:2', 'c:3']).map((e) => e.address), ['a:1', 'b:2', 'c:3']);
});

test('endpoints: malformed ones are usage errors that say what is expected', () => {
  assert.throws(() => parseEndpoint('localhost'), { exitCode: 2, message: /Invalid endpoint 'localhost': expected host:port/ });
  assert.throws(() => parseEndpoint('unix://x:1'), { exitCode: 2, message: /scheme 'unix' is not supported/ });
  assert.throws(() => parseEndpoint('a:99999'), { exitCode: 2 });
  assert.throws(() => parseEndpoints([' , ']), { exitCode: 2, message: /No etcd endpoint given/ });
});

test('prefix range end: last byte below 0xff incremented, all-0xff means every key', () => {
  assert.deepEqual(prefixRangeEnd('foo'), Buffer.from('fop'));
  assert.deepEqual(prefixRangeEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixRangeEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]));
  assert.deepEqual(prefixRangeEnd(''), Buffer.from([0]));
});

test('backoff grows exponentially up to the cap and stays within [ceiling/2, ceiling]', () => {
  const seed = 20261125;
  const random = seededRandom(seed);
  for (let round = 0; round < 10; round++) {
    const ceiling = Math.min(defaultRetryPolicy.maxDelayMs, defaultRetryPolicy.baseDelayMs * 2 ** round);
    const wait = backoffDelay(defaultRetryPolicy, round, random);
    assert.ok(wait >= ceiling / 2 && wait <= ceiling, `seed ${seed}: round ${round} waited ${wait}, ceiling ${ceiling}`);
  }
});
