import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { decodeKeyValue, encodeKeyValue, type StoredKeyValue } from '../../src/api/mvccpb.js';
import { protoDir } from '../../src/api/proto-dir.js';

// Cross-check the hand-written codec with protobufjs reading the same .proto file.
const root = new protobuf.Root().loadSync(`${protoDir()}/kv.proto`, { keepCase: true });
const KeyValueType = root.lookupType('mvccpb.KeyValue');

function sample(overrides: Partial<StoredKeyValue> = {}): StoredKeyValue {
  return {
    key: Buffer.from('/registry/pods/default/web-0'),
    createRevision: 12,
    modRevision: 345678,
    version: 3,
    value: Buffer.from('{"kind":"Pod"}'),
    lease: 0x694d7a1b2c3d4e5fn,
    ...overrides,
  };
}

test('KeyValue round-trips through encode and decode', () => {
  for (const kv of [sample(), sample({ lease: 0n, value: Buffer.alloc(0) }), sample({ lease: -5n })]) {
    assert.deepEqual(decodeKeyValue(encodeKeyValue(kv)), kv);
  }
});

test('KeyValue bytes omit zero fields and keep field order, as etcd marshals them', () => {
  const kv = { key: Buffer.from('k'), createRevision: 2, modRevision: 3, version: 1, value: Buffer.from('v'), lease: 0n };
  // key=1 "k", create_revision=2 2, mod_revision=3 3, version=4 1, value=5 "v"; lease 0 is omitted.
  assert.equal(encodeKeyValue(kv).toString('hex'), '0a016b1002180320012a0176');
  assert.equal(encodeKeyValue({ ...kv, value: Buffer.alloc(0), lease: 1n }).toString('hex'), '0a016b1002180320013001');
});

test('protobufjs decodes our bytes to the same values', () => {
  const kv = sample();
  const decoded = KeyValueType.toObject(KeyValueType.decode(encodeKeyValue(kv)), { longs: String }) as Record<string, unknown>;
  assert.equal(decoded['create_revision'], '12');
  assert.equal(decoded['mod_revision'], '345678');
  assert.equal(decoded['version'], '3');
  assert.equal(decoded['lease'], (0x694d7a1b2c3d4e5fn).toString());
});
