import type Database from 'better-sqlite3';
import { Crc32c } from '../../util/crc32c.js';

/** Every table with the columns that order its rows; the hash walks them in this order. */
const TABLES: Array<[table: string, orderBy: string]> = [
  ['rev', 'main, sub'],
  ['live', 'key'],
  ['meta', 'name'],
  ['lease', 'id'],
  ['alarm', 'member_id, type'],
  ['member', 'id'],
];

/**
 * CRC-32C over the whole backend content (Maintenance.Hash): table names, then every row in
 * key order with each value tagged by type, so equal content gives an equal hash whatever the
 * file layout.
 */
export function backendContentHash(db: Database.Database): number {
  const crc = new Crc32c();
  const num = Buffer.alloc(9);
  for (const [table, orderBy] of TABLES) {
    crc.update(Buffer.from(table));
    const stmt = db.prepare(`SELECT * FROM ${table} ORDER BY ${orderBy}`).raw(true).safeIntegers(true);
    for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
      for (const value of row) {
        if (Buffer.isBuffer(value)) {
          num[0] = 0x62;
          num.writeBigUInt64BE(BigInt(value.length), 1);
          crc.update(num).update(value);
        } else if (typeof value === 'bigint') {
          num[0] = 0x69;
          num.writeBigInt64BE(value, 1);
          crc.update(num);
        } else if (typeof value === 'string') {
          const bytes = Buffer.from(value);
          num[0] = 0x73;
          num.writeBigUInt64BE(BigInt(bytes.length), 1);
          crc.update(num).update(bytes);
        } else if (typeof value === 'number') {
          num[0] = 0x66;
          num.writeDoubleBE(value, 1);
          crc.update(num);
        } else {
          crc.update(Buffer.from([0x6e]));
        }
      }
    }
  }
  return crc.digest();
}
