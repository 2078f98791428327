import { ProtoReader, ProtoWriter, WireType } from './protowire.js';

/**
 * The messages of Strata's snapshot archive (proto/archive.proto, docs/archive-format.md),
 * encoded by hand: the archive checksums these bytes, so they must not depend on a
 * reflection encoder's choices. Unknown fields are skipped so newer minor versions can add some.
 */

/** One stored MVCC revision with its value exactly as the backend stores it. */
export interface RawArchiveRecord {
  main: number;
  sub: number;
  tombstone: boolean;
  /** The marshalled mvccpb.KeyValue; HashKV covers these exact bytes. */
  kvBytes: Buffer;
}

export interface ArchiveLease {
  id: bigint;
  grantedTtl: number;
  remainingTtl: number;
}

export interface ArchiveAuth {
  enabled: boolean;
  revision: number;
  /** Marshalled authpb.User messages. */
  users: Buffer[];
  /** Marshalled authpb.Role messages. */
  roles: Buffer[];
}

export function encodeArchiveRecord(main: number, sub: number, tombstone: boolean, kvBytes: Uint8Array): Buffer {
  return Buffer.concat([archiveRecordHead(main, sub, tombstone, kvBytes.length), kvBytes]);
}

/**
 * An archive record's bytes up to its KeyValue: fields 1-3 and field 4's tag and length (the
 * KeyValue is the last field). Followed by the `kvLength` KeyValue bytes it is exactly
 * encodeArchiveRecord's output, so a writer can copy the value once, straight into its chunk.
 */
export function archiveRecordHead(main: number, sub: number, tombstone: boolean, kvLength: number): Buffer {
  const w = new ProtoWriter().optionalNumber(1, main).optionalNumber(2, sub).optionalBool(3, tombstone);
  if (kvLength !== 0) w.tag(4, WireType.bytes).uvarint(kvLength);
  return w.finish();
}

export function decodeArchiveRecord(buf: Buffer, what = 'archive record'): RawArchiveRecord {
  const r = new ProtoReader(buf, what);
  const rec: RawArchiveRecord = { main: 0, sub: 0, tombstone: false, kvBytes: Buffer.alloc(0) };
  while (!r.done) {
    const [field, wireType] = r.tag();
    if (wireType === WireType.varint && field === 1) rec.main = r.uvarint();
    else if (wireType === WireType.varint && field === 2) rec.sub = r.uvarint();
    else if (wireType === WireType.varint && field === 3) rec.tombstone = r.uvarint() !== 0;
    else if (wireType === WireType.bytes && field === 4) rec.kvBytes = r.bytes();
    else r.skip(wireType);
  }
  return rec;
}

export function encodeArchiveLease(lease: ArchiveLease): Buffer {
  return new ProtoWriter()
    .optionalInt64(1, lease.id)
    .optionalNumber(2, lease.grantedTtl)
    .optionalNumber(3, lease.remainingTtl)
    .finish();
}

export function decodeArchiveLease(buf: Buffer, what = 'archive lease'): ArchiveLease {
  const r = new ProtoReader(buf, what);
  const lease: ArchiveLease = { id: 0n, grantedTtl: 0, remainingTtl: 0 };
  while (!r.done) {
    const [field, wireType] = r.tag();
    if (wireType === WireType.varint && field === 1) lease.id = r.int64();
    else if (wireType === WireType.varint && field === 2) lease.grantedTtl = r.uvarint();
    else if (wireType === WireType.varint && field === 3) lease.remainingTtl = r.uvarint();
    else r.skip(wireType);
  }
  return lease;
}

export function encodeArchiveAuth(auth: ArchiveAuth): Buffer {
  const w = new ProtoWriter().optionalBool(1, auth.enabled).optionalNumber(2, auth.revision);
  for (const user of auth.users) w.bytes(3, user);
  for (const role of auth.roles) w.bytes(4, role);
  return w.finish();
}

export function decodeArchiveAuth(buf: Buffer, what = 'archive auth'): ArchiveAuth {
  const r = new ProtoReader(buf, what);
  const auth: ArchiveAuth = { enabled: false, revision: 0, users: [], roles: [] };
  while (!r.done) {
    const [field, wireType] = r.tag();
    if (wireType === WireType.varint && field === 1) auth.enabled = r.uvarint() !== 0;
    else if (wireType === WireType.varint && field === 2) auth.revision = r.uvarint();
    else if (wireType === WireType.bytes && field === 3) auth.users.push(r.bytes());
    else if (wireType === WireType.bytes && field === 4) auth.roles.push(r.bytes());
    else r.skip(wireType);
  }
  return auth;
}

/** The varint length prefix of protobuf's length-delimited stream form. */
export function delimiterFor(messageLength: number): Buffer {
  return new ProtoWriter().uvarint(messageLength).finish();
}
