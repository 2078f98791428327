import type { StoredKeyValue } from './mvccpb.js';
import { Crc32c } from '../util/crc32c.js';

/**
 * etcd's revision keys: how the key bucket of the backend names each stored revision.
 * 8-byte big-endian main revision, '_', 8-byte big-endian sub revision, and a trailing 't'
 * when the revision is a tombstone. These bytes are part of HashKV.
 */
export interface Revision {
  main: number;
  sub: number;
}

export const REVISION_KEY_BYTES = 17;
export const TOMBSTONE_MARK = 0x74; // 't'

export interface DecodedRevisionKey extends Revision {
  tombstone: boolean;
}

/** Decodes a revision key; undefined when the bytes are not one. */
export function decodeRevisionKey(buf: Uint8Array): DecodedRevisionKey | undefined {
  if (buf.length !== REVISION_KEY_BYTES && buf.length !== REVISION_KEY_BYTES + 1) return undefined;
  if (buf[8] !== 0x5f) return undefined;
  if (buf.length === REVISION_KEY_BYTES + 1 && buf[REVISION_KEY_BYTES] !== TOMBSTONE_MARK) return undefined;
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const main = view.readBigUInt64BE(0);
  const sub = view.readBigUInt64BE(9);
  if (main > BigInt(Number.MAX_SAFE_INTEGER) || sub > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { main: Number(main), sub: Number(sub), tombstone: buf.length === REVISION_KEY_BYTES + 1 };
}

/** Compares revisions in the order etcd stores them. */
export function compareRevisions(a: Revision, b: Revision): number {
  return a.main - b.main || a.sub - b.sub;
}

/**
 * Writes the revision key of (main, sub) into `into` (at least 18 bytes) and returns its length
 * as etcd stores it: 17, or 18 with the tombstone mark. Byte stores, not Buffer's writeUInt32BE,
 * and no view made: this runs once or twice for every revision hashed.
 */
export function writeRevisionKey(into: Uint8Array, main: number, sub: number, tombstone: boolean): number {
  writeUint64BE(into, 0, main);
  into[8] = 0x5f; // '_'
  writeUint64BE(into, 9, sub);
  if (!tombstone) return REVISION_KEY_BYTES;
  into[REVISION_KEY_BYTES] = TOMBSTONE_MARK;
  return REVISION_KEY_BYTES + 1;
}

function writeUint64BE(into: Uint8Array, at: number, value: number): void {
  const high = Math.floor(value / 2 ** 32);
  const low = value >>> 0;
  into[at] = high >>> 24;
  into[at + 1] = (high >>> 16) & 0xff;
  into[at + 2] = (high >>> 8) & 0xff;
  into[at + 3] = high & 0xff;
  into[at + 4] = low >>> 24;
  into[at + 5] = (low >>> 16) & 0xff;
  into[at + 6] = (low >>> 8) & 0xff;
  into[at + 7] = low & 0xff;
}

/**
 * etcd's HashKV accumulator: CRC-32C over the bucket name "key", then, in revision order,
 * each included revision key followed by its stored value (the marshalled mvccpb.KeyValue).
 * Which revisions are included is the caller's rule (see mvcc HashKV). Without the bucket name
 * it hashes a run of records to be joined to others (crc32cCombine), and counts its bytes.
 */
export class HashKvHasher {
  private readonly crc = new Crc32c();
  /** Rebuilt in place for each record, seen through one of two views made once. */
  private readonly revisionKey = Buffer.alloc(REVISION_KEY_BYTES + 1);
  private readonly putKey = this.revisionKey.subarray(0, REVISION_KEY_BYTES);
  private readonly tombstoneKey = this.revisionKey.subarray(0, REVISION_KEY_BYTES + 1);
  private hashed = 0;

  constructor(options: { bucketName: boolean } = { bucketName: true }) {
    if (options.bucketName) this.add(Buffer.from('key'));
  }

  addRecord(main: number, sub: number, tombstone: boolean, value: Uint8Array): void {
    writeRevisionKey(this.revisionKey, main, sub, tombstone);
    this.add(tombstone ? this.tombstoneKey : this.putKey);
    this.add(value);
  }

  digest(): number {
    return this.crc.digest();
  }

  /** Bytes hashed, the bucket name included. */
  get bytes(): number {
    return this.hashed;
  }

  private add(bytes: Uint8Array): void {
    this.crc.update(bytes);
    this.hashed += bytes.length;
  }
}

/** A revision as HashKV reads it: its place, its key-value and the bytes stored for it. */
export interface HashableRevision {
  main: number;
  sub: number;
  tombstone: boolean;
  kv: StoredKeyValue;
  /** The stored bytes: the marshalled mvccpb.KeyValue. */
  value: Uint8Array;
}
