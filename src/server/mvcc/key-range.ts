/**
 * A key range as etcd's mvcc layer takes it: `end` null means the single key `key`, an empty
 * `end` means every key >= `key`, anything else the half-open range [key, end).
 */
export interface KeyRange {
  key: Buffer;
  end: Buffer | null;
}

const EMPTY = Buffer.alloc(0);

/**
 * From the API's (key, range_end): an empty range_end names one key, "\0" every key >= key
 * (etcd's mkGteRange), anything else the range up to range_end.
 */
export function keyRangeOf(key: Buffer, rangeEnd: Buffer): KeyRange {
  if (rangeEnd.length === 0) return { key, end: null };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key, end: EMPTY };
  return { key, end: rangeEnd };
}

export function inKeyRange(range: KeyRange, key: Buffer): boolean {
  if (range.end === null) return key.equals(range.key);
  if (Buffer.compare(key, range.key) < 0) return false;
  return range.end.length === 0 || Buffer.compare(key, range.end) < 0;
}

export type RangeShape = 'one' | 'from' | 'between';

export interface RangeCondition {
  shape: RangeShape;
  /** SQL for the shape, over a column named `key` (prefixed by `alias.` when given). */
  sql: string;
  params: Buffer[];
}

/** The WHERE condition selecting a range; BLOB comparison in SQLite is memcmp, as etcd orders keys. */
export function rangeCondition(range: KeyRange, alias = ''): RangeCondition {
  const column = alias ? `${alias}.key` : 'key';
  if (range.end === null) return { shape: 'one', sql: `${column} = ?`, params: [range.key] };
  if (range.end.length === 0) return { shape: 'from', sql: `${column} >= ?`, params: [range.key] };
  return { shape: 'between', sql: `${column} >= ? AND ${column} < ?`, params: [range.key, range.end] };
}
