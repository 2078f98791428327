/** Safe-integer numbers as little-endian u64 fields (terms and indexes stay below 2^53). */
const TWO_32 = 2 ** 32;

export function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

export function readU64(buf: Buffer, offset: number): number {
  const value = buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32;
  if (!Number.isSafeInteger(value)) throw new RangeError(`u64 at byte ${offset} exceeds 2^53`);
  return value;
}
