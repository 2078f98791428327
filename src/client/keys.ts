/** A key or value as callers pass it: text is UTF-8. */
export type Bytes = Buffer | string;

export function toBytes(value: Bytes): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * The range end that selects every key starting with `prefix` (etcd's GetPrefixRangeEnd):
 * the prefix with its last byte below 0xff incremented and the rest cut; "\0" (every key)
 * when the prefix is empty or all 0xff.
 */
export function prefixRangeEnd(prefix: Bytes): Buffer {
  const bytes = Buffer.from(toBytes(prefix));
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i] = bytes[i]! + 1;
      return bytes.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** The range end meaning "every key from the start key on" (etcdctl --from-key). */
export const fromKeyRangeEnd = (): Buffer => Buffer.from([0]);
