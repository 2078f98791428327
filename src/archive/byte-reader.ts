/** Reads exact byte counts from a stream of chunks, for the tar layer's fixed-size blocks. */
export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Exactly `n` bytes, or fewer when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n && !this.ended) {
      const next = await this.source.next();
      if (next.done === true) this.ended = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    if (this.buffered > 0) return false;
    return (await this.read(1).then((b) => this.unread(b))) === 0;
  }

  private unread(buf: Buffer): number {
    if (buf.length > 0) {
      this.chunks.unshift(buf);
      this.buffered += buf.length;
    }
    return buf.length;
  }
}
