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
 * Writes the revision key of (main, sub) into `into` (at least 18 bytes) and returns the bytes
 * etcd stores: 17, or 18 with the tombstone mark.
 */
export function writeRevisionKey(into: Buffer, main: number, sub: number, tombstone: boolean): Buffer {
  into.writeUInt32BE(Math.floor(main / 2 ** 32), 0);
  into.writeUInt32BE(main >>> 0, 4);
  into[8] = 0x5f; // '_'
  into.writeUInt32BE(Math.floor(sub / 2 ** 32), 9);
  into.writeUInt32BE(sub >>> 0, 13);
  if (!tombstone) return into.subarray(0, REVISION_KEY_BYTES);
  into[REVISION_KEY_BYTES] = TOMBSTONE_MARK;
  return into.subarray(0, REVISION_KEY_BYTES + 1);
}

/**
 * etcd's HashKV accumulator: CRC-32C over the bucket name "key", then, in revision order,
 * each included revision key followed by its stored value (the marshalled mvccpb.KeyValue).
 * Which revisions are included is the caller's rule (see mvcc HashKV). Without the bucket name
 * it hashes a run of records to be joined to others (crc32cCombine), and counts its bytes.
 */
export class HashKvHasher {
  private readonly crc = new Crc32c();
  /** Rebuilt in place for each record: hashing runs once per stored revision. */
  private readonly revisionKey = Buffer.alloc(REVISION_KEY_BYTES + 1);
  private hashed = 0;

  constructor(options: { bucketName: boolean } = { bucketName: true }) {
    if (options.bucketName) this.add(Buffer.from('key'));
  }

  addRecord(main: number, sub: number, tombstone: boolean, value: Uint8Array): void {
    this.add(writeRevisionKey(this.revisionKey, main, sub, tombstone));
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
