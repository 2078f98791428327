import { ProtoReader, ProtoWriter, WireType, uvarintLength, writeUvarint } from './protowire.js';

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

/**
 * Bytes of an archive record up to its KeyValue: fields 1-3 and field 4's tag and length (the
 * KeyValue is the last field, so the value follows as stored).
 */
export function archiveRecordHeadLength(main: number, sub: number, tombstone: boolean, kvLength: number): number {
  return (
    (main !== 0 ? 1 + uvarintLength(main) : 0) +
    (sub !== 0 ? 1 + uvarintLength(sub) : 0) +
    (tombstone ? 2 : 0) +
    (kvLength !== 0 ? 1 + uvarintLength(kvLength) : 0)
  );
}

/**
 * Writes the head archiveRecordHeadLength counts into `target` at `offset` and returns the
 * offset where the `kvLength` KeyValue bytes go: a writer copies the value once, straight into
 * its chunk, and allocates nothing per record.
 */
export function writeArchiveRecordHead(target: Uint8Array, offset: number, main: number, sub: number, tombstone: boolean, kvLength: number): number {
  let at = offset;
  if (main !== 0) at = writeUvarint(target, writeUvarint(target, at, (1 << 3) | WireType.varint), main);
  if (sub !== 0) at = writeUvarint(target, writeUvarint(target, at, (2 << 3) | WireType.varint), sub);
  if (tombstone) at = writeUvarint(target, writeUvarint(target, at, (3 << 3) | WireType.varint), 1);
  if (kvLength !== 0) at = writeUvarint(target, writeUvarint(target, at, (4 << 3) | WireType.bytes), kvLength);
  return at;
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
