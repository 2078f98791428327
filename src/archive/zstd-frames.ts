/**
 * Walks the frame structure of a zstd stream (RFC 8878) as its bytes go by, without
 * decompressing: it tells a foreign file from a zstd one at the first bytes, and a stream cut
 * anywhere, even at a point where a decoder would just stop (zstd-codec's WASM decoder reports
 * no truncation). Frames and blocks are skipped by their declared sizes.
 */
const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MAX_BLOCK_SIZE = 128 * 1024;

type State = 'magic' | 'skippableSize' | 'descriptor' | 'headerRest' | 'blockHeader' | 'checksum';

function describeForeign(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'not a zstd stream (it is gzip)';
  if (head.toString('latin1', 0, 4) === 'PK\u0003\u0004') return 'not a zstd stream (it is zip)';
  if (head.toString('latin1', 0, 3) === 'BZh') return 'not a zstd stream (it is bzip2)';
  return 'not a zstd stream';
}

export class ZstdFrameWalker {
  private state: State = 'magic';
  private readonly header = Buffer.alloc(16);
  private have = 0;
  private need = 4;
  private skip = 0;
  private afterSkip: State = 'magic';
  private lastBlock = false;
  private checksum = false;
  private frames = 0;
  private total = 0;

  /** Throws an Error whose message says what is wrong with the bytes seen so far. */
  update(chunk: Uint8Array): void {
    let i = 0;
    this.total += chunk.length;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.enter(this.afterSkip);
        continue;
      }
      const n = Math.min(this.need - this.have, chunk.length - i);
      this.header.set(chunk.subarray(i, i + n), this.have);
      this.have += n;
      i += n;
      if (this.have === this.need) this.onHeader();
    }
  }

  /** Throws when the stream does not end at the end of a frame. */
  end(): void {
    if (this.total === 0) throw new Error('not a zstd stream (the file is empty)');
    if (this.frames === 0 && this.state === 'magic') throw new Error(describeForeign(this.header.subarray(0, this.have)));
    if (this.state !== 'magic' || this.have !== 0 || this.skip !== 0) {
      throw new Error('archive is truncated (the zstd stream ends inside a frame)');
    }
  }

  private enter(state: State): void {
    this.state = state;
    this.have = 0;
    this.need = state === 'magic' || state === 'skippableSize' || state === 'checksum' ? 4 : state === 'blockHeader' ? 3 : 1;
  }

  private skipThen(bytes: number, next: State): void {
    this.afterSkip = next;
    if (bytes === 0) this.enter(next);
    else {
      this.skip = bytes;
      this.have = 0;
      this.need = 0;
    }
  }

  private endFrame(): void {
    this.frames++;
    this.enter('magic');
  }

  private onHeader(): void {
    const h = this.header;
    switch (this.state) {
      case 'magic': {
        const magic = h.readUInt32LE(0);
        if (magic === ZSTD_MAGIC) this.enter('descriptor');
        else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) this.enter('skippableSize');
        else if (this.frames === 0) throw new Error(describeForeign(h.subarray(0, 4)));
        else throw new Error(`zstd stream is corrupt (bytes after frame ${this.frames} are not a frame)`);
        return;
      }
      case 'skippableSize':
        this.frames++;
        this.skipThen(h.readUInt32LE(0), 'magic');
        return;
      case 'descriptor': {
        const fhd = h[0]!;
        if (fhd & 0x08) throw new Error('zstd stream is corrupt (reserved bit set in a frame header)');
        const singleSegment = (fhd & 0x20) !== 0;
        const fcsFlag = fhd >> 6;
        const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
        const dictBytes = [0, 1, 2, 4][fhd & 0x03]!;
        this.checksum = (fhd & 0x04) !== 0;
        const rest = (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
        this.lastBlock = false;
        if (rest === 0) this.enter('blockHeader');
        else {
          this.state = 'headerRest';
          this.have = 0;
          this.need = rest;
        }
        return;
      }
      case 'headerRest':
        this.enter('blockHeader');
        return;
      case 'blockHeader': {
        const bits = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        this.lastBlock = (bits & 1) === 1;
        const type = (bits >> 1) & 0x03;
        const size = bits >>> 3;
        if (type === 3) throw new Error('zstd stream is corrupt (reserved block type)');
        if (size > MAX_BLOCK_SIZE) throw new Error('zstd stream is corrupt (block larger than 128 KiB)');
        const next: State = !this.lastBlock ? 'blockHeader' : this.checksum ? 'checksum' : 'magic';
        if (next === 'magic') this.frames++;
        this.skipThen(type === 1 ? 1 : size, next);
        return;
      }
      case 'checksum':
        this.endFrame();
        return;
    }
  }
}
