import { createRequire } from 'node:module';

/**
 * CRC-32C (Castagnoli), the checksum etcd uses for its WAL and HashKV. Node has no native one
 * (zlib.crc32 is plain CRC-32). @node-rs/crc32 (a prebuilt addon) hashes large inputs about
 * 2.5-4x faster than the JS below, but each call costs about 0.3 us, so inputs under
 * NATIVE_MIN_BYTES stay in JS, and Crc32c gathers small updates before hashing them.
 * The JS form is slicing-by-16: sixteen 256-entry tables, fed four aligned 32-bit words at a
 * time. Word loads through an Int32Array over the whole ArrayBuffer (cached, since callers hash
 * many views of one block) halve the reads of the byte-wise form.
 */
type NativeCrc32c = (input: Uint8Array, initialState?: number) => number;

function loadNative(): NativeCrc32c | undefined {
  try {
    return (createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: NativeCrc32c }).crc32c;
  } catch {
    return undefined;
  }
}

const native = loadNative();
/** Whether large inputs go through @node-rs/crc32 in this process (else everything is JS). */
export const crc32cIsNative = native !== undefined;
/** Measured crossover: below about 400 bytes the JS form is faster than a native call. */
const NATIVE_MIN_BYTES = 512;

const POLY = 0x82f63b78;
const SLICES = 16;
const T = new Int32Array(256 * SLICES);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[i] = c;
}
for (let t = 1; t < SLICES; t++) {
  for (let i = 0; i < 256; i++) {
    const prev = T[(t - 1) * 256 + i]!;
    T[t * 256 + i] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

/** Word loads read the platform's byte order; the tables assume little-endian words. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
/** Below this many bytes the word path's setup costs more than it saves. */
const MIN_WORD_BYTES = 64;

let wordsOf: ArrayBufferLike | undefined;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

function wordView(buffer: ArrayBufferLike): Int32Array<ArrayBufferLike> {
  if (buffer !== wordsOf) {
    wordsOf = buffer;
    words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return words;
}

/** Continues a CRC-32C from `crc` (0 to start) over `data`. */
export function crc32c(data: Uint8Array, crc = 0): number {
  return native !== undefined && data.length >= NATIVE_MIN_BYTES ? native(data, crc) : crc32cJs(data, crc);
}

/** The JS form alone, whatever loads (tests compare the two). */
export function crc32cJs(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  let i = 0;
  const n = data.length;
  if (LITTLE_ENDIAN && n >= MIN_WORD_BYTES) {
    const base = data.byteOffset;
    while (((base + i) & 3) !== 0) c = T[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
    const w = wordView(data.buffer);
    const first = (base + i) >>> 2;
    const end = first + ((n - i) >>> 4) * 4;
    for (let j = first; j < end; j += 4) {
      const a = c ^ w[j]!;
      const b = w[j + 1]!;
      const d = w[j + 2]!;
      const e = w[j + 3]!;
      c =
        T[3840 + (a & 0xff)]! ^
        T[3584 + ((a >>> 8) & 0xff)]! ^
        T[3328 + ((a >>> 16) & 0xff)]! ^
        T[3072 + (a >>> 24)]! ^
        T[2816 + (b & 0xff)]! ^
        T[2560 + ((b >>> 8) & 0xff)]! ^
        T[2304 + ((b >>> 16) & 0xff)]! ^
        T[2048 + (b >>> 24)]! ^
        T[1792 + (d & 0xff)]! ^
        T[1536 + ((d >>> 8) & 0xff)]! ^
        T[1280 + ((d >>> 16) & 0xff)]! ^
        T[1024 + (d >>> 24)]! ^
        T[768 + (e & 0xff)]! ^
        T[512 + ((e >>> 8) & 0xff)]! ^
        T[256 + ((e >>> 16) & 0xff)]! ^
        T[e >>> 24]!;
    }
    i += (end - first) * 4;
  }
  while (i < n) c = T[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const GATHER_BYTES = 64 * 1024;

/**
 * An incremental CRC-32C, for data that arrives in pieces. Pieces smaller than the gather
 * buffer are copied into it and hashed together: HashKV feeds a 17-byte revision key and a
 * value of a few KiB per record, and one call per piece cost more than the copy.
 */
export class Crc32c {
  private value = 0;
  private gathered: Buffer | undefined;
  private gatheredBytes = 0;

  update(data: Uint8Array): this {
    if (data.length >= GATHER_BYTES / 2) {
      this.flush();
      this.value = crc32c(data, this.value);
      return this;
    }
    const gathered = (this.gathered ??= Buffer.allocUnsafe(GATHER_BYTES));
    if (this.gatheredBytes + data.length > GATHER_BYTES) this.flush();
    gathered.set(data, this.gatheredBytes);
    this.gatheredBytes += data.length;
    return this;
  }

  digest(): number {
    this.flush();
    return this.value;
  }

  private flush(): void {
    if (this.gatheredBytes === 0 || this.gathered === undefined) return;
    this.value = crc32c(this.gathered.subarray(0, this.gatheredBytes), this.value);
    this.gatheredBytes = 0;
  }
}

/** a(x)·b(x) modulo the CRC-32C polynomial, both in the reflected form the tables use. */
function multiplyModPoly(a: number, b: number): number {
  let product = 0;
  for (let bit = 0x80000000; bit !== 0 && a !== 0; bit >>>= 1) {
    if (a & bit) {
      product ^= b;
      a ^= bit;
    }
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0..63 (the reflected x^1 is bit 30): lengths below 2^53 bytes need k < 57. */
const X_POW_2K: number[] = [0x40000000];
for (let k = 1; k < 64; k++) X_POW_2K.push(multiplyModPoly(X_POW_2K[k - 1]!, X_POW_2K[k - 1]!));

/**
 * The CRC-32C of A followed by B, from crc(A), crc(B) and B's length: crc(A) shifted over B's
 * 8·length bits (a product with x^(8·length), built from the squares above) plus crc(B). Lets a
 * hash over items whose inclusion is decided later be assembled from each item's own CRC.
 */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB !== lastShiftLength) {
    let shift = 0x80000000; // x^0
    let k = 3; // one byte is x^(2^3)
    for (let n = lengthB; n > 0; n = Math.floor(n / 2), k++) {
      if (n % 2 === 1) shift = multiplyModPoly(X_POW_2K[k]!, shift);
    }
    lastShiftLength = lengthB;
    lastShift = shift;
  }
  return (multiplyModPoly(lastShift, crcA) ^ crcB) >>> 0;
}

/** The shift for the last length combined: joining many records of one size reuses it. */
let lastShiftLength = 0;
let lastShift = 0x80000000;
