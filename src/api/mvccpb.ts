import { ProtoReader, ProtoWriter, WireType } from './protowire.js';

/**
 * mvccpb.KeyValue in the form the MVCC store, the archive and the hash work with.
 * Revisions and versions are safe integers (etcd's int64 revisions never approach 2^53);
 * lease IDs are full 64-bit values and so bigint.
 */
export interface StoredKeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  lease: bigint;
}

/**
 * Marshals like etcd's gogoproto code: fields in number order, zero values omitted. The
 * bytes are part of etcd's HashKV, so they must match etcd's exactly.
 */
export function encodeKeyValue(kv: StoredKeyValue): Buffer {
  return new ProtoWriter()
    .optionalBytes(1, kv.key)
    .optionalNumber(2, kv.createRevision)
    .optionalNumber(3, kv.modRevision)
    .optionalNumber(4, kv.version)
    .optionalBytes(5, kv.value)
    .optionalInt64(6, kv.lease)
    .finish();
}

export function decodeKeyValue(buf: Buffer, what = 'mvccpb.KeyValue'): StoredKeyValue {
  const r = new ProtoReader(buf, what);
  const kv: StoredKeyValue = {
    key: Buffer.alloc(0),
    createRevision: 0,
    modRevision: 0,
    version: 0,
    value: Buffer.alloc(0),
    lease: 0n,
  };
  while (!r.done) {
    const [field, wireType] = r.tag();
    if (wireType === WireType.bytes && field === 1) kv.key = r.bytes();
    else if (wireType === WireType.bytes && field === 5) kv.value = r.bytes();
    else if (wireType === WireType.varint && field === 2) kv.createRevision = Number(r.int64());
    else if (wireType === WireType.varint && field === 3) kv.modRevision = Number(r.int64());
    else if (wireType === WireType.varint && field === 4) kv.version = Number(r.int64());
    else if (wireType === WireType.varint && field === 6) kv.lease = r.int64();
    else r.skip(wireType);
  }
  return kv;
}
