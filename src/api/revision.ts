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
 * etcd's HashKV accumulator: CRC-32C over the bucket name "key", then, in revision order,
 * each included revision key followed by its stored value (the marshalled mvccpb.KeyValue).
 * Which revisions are included is the caller's rule (see mvcc HashKV).
 */
export class HashKvHasher {
  private readonly crc = new Crc32c().update(Buffer.from('key'));
  /**
   * The revision key is rebuilt in place for each record (hashing runs once per stored
   * revision); its last byte is the tombstone mark, hashed only for tombstones.
   */
  private readonly revisionKey = Buffer.alloc(REVISION_KEY_BYTES + 1).fill(TOMBSTONE_MARK, REVISION_KEY_BYTES);

  addRecord(main: number, sub: number, tombstone: boolean, value: Uint8Array): void {
    const key = this.revisionKey;
    key.writeUInt32BE(Math.floor(main / 2 ** 32), 0);
    key.writeUInt32BE(main >>> 0, 4);
    key[8] = 0x5f; // '_'
    key.writeUInt32BE(Math.floor(sub / 2 ** 32), 9);
    key.writeUInt32BE(sub >>> 0, 13);
    this.crc.update(tombstone ? key : key.subarray(0, REVISION_KEY_BYTES));
    this.crc.update(value);
  }

  digest(): number {
    return this.crc.digest();
  }
}
