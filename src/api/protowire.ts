/**
 * Minimal protobuf wire-format primitives for the messages whose exact bytes matter
 * (mvccpb.KeyValue feeds etcd's HashKV, archive records are checksummed), where a
 * reflection-based encoder could reorder fields or write defaults.
 */

export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

const TWO_64 = 1n << 64n;

/** Bytes the unsigned varint of `value` (a non-negative safe integer) takes. */
export function uvarintLength(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

/**
 * Writes the unsigned varint of `value` into `target` at `offset` and returns the offset after
 * it: for hot paths that fill one buffer, where ProtoWriter's pieces would be garbage.
 */
export function writeUvarint(target: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
  let at = offset;
  let v = value;
  while (v >= 0x80) {
    target[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  target[at++] = v;
  return at;
}

export class ProtoWriter {
  private chunks: Buffer[] = [];
  private scratch = Buffer.allocUnsafe(64);
  private used = 0;

  private ensure(n: number): void {
    if (this.used + n <= this.scratch.length) return;
    this.flushScratch();
    if (n > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(n, 64));
  }

  private flushScratch(): void {
    if (this.used === 0) return;
    this.chunks.push(Buffer.from(this.scratch.subarray(0, this.used)));
    this.used = 0;
  }

  /** An unsigned varint of a non-negative safe integer. */
  uvarint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.scratch[this.used++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.scratch[this.used++] = v;
    return this;
  }

  /** An int64 varint as protobuf writes it (negative values as 10-byte two's complement). */
  int64(value: bigint): this {
    const v = value < 0n ? value + TWO_64 : value;
    if (v < 0n || v >= TWO_64) throw new RangeError(`int64 out of range: ${value}`);
    this.ensure(10);
    // In two number halves (low 28 bits, high 36): BigInt steps per 7 bits showed in raft's peer traffic.
    let lo = Number(v & 0xfff_ffffn);
    let hi = Number(v >> 28n);
    if (hi === 0) return this.uvarint(lo);
    for (let i = 0; i < 4; i++) {
      this.scratch[this.used++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    while (hi >= 0x80) {
      this.scratch[this.used++] = (hi % 0x80) | 0x80;
      hi = Math.floor(hi / 0x80);
    }
    this.scratch[this.used++] = hi;
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.uvarint(field * 8 + wireType);
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.bytes).uvarint(value.length);
    this.flushScratch();
    this.chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    return this;
  }

  /** Field `field` as a varint, skipped when zero (proto3 default). */
  optionalNumber(field: number, value: number): this {
    if (value !== 0) this.tag(field, WireType.varint).uvarint(value);
    return this;
  }

  optionalInt64(field: number, value: bigint): this {
    if (value !== 0n) this.tag(field, WireType.varint).int64(value);
    return this;
  }

  optionalBytes(field: number, value: Uint8Array): this {
    if (value.length !== 0) this.bytes(field, value);
    return this;
  }

  optionalBool(field: number, value: boolean): this {
    if (value) this.tag(field, WireType.varint).uvarint(1);
    return this;
  }

  finish(): Buffer {
    this.flushScratch();
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    return out;
  }
}

export class ProtoReader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly what = 'message') {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private fail(reason: string): never {
    throw new ProtoDecodeError(`${this.what}: ${reason} at byte ${this.pos}`);
  }

  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) this.fail('varint exceeds 2^53');
        return result;
      }
      scale *= 0x80;
    }
    return this.fail('varint exceeds 2^53');
  }

  int64(): bigint {
    // In two number halves (low 28 bits, the rest), joined once: see ProtoWriter.int64.
    let lo = 0;
    let hi = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else {
        hi += (b & 0x7f) * scale;
        scale *= 0x80;
      }
      if (b < 0x80) return BigInt.asIntN(64, (BigInt(hi) << 28n) | BigInt(lo));
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.uvarint();
    const field = Math.floor(t / 8);
    if (field === 0) this.fail('field number 0');
    return [field, t % 8];
  }

  bytes(): Buffer {
    const len = this.uvarint();
    if (this.pos + len > this.buf.length) this.fail(`length ${len} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint:
        this.int64();
        return;
      case WireType.fixed64:
        this.advance(8);
        return;
      case WireType.bytes:
        this.bytes();
        return;
      case WireType.fixed32:
        this.advance(4);
        return;
      default:
        this.fail(`unknown wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) this.fail('truncated field');
    this.pos += n;
  }
}

export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError';
}
