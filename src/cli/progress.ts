const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
function humanizeBytesShort(n: number): string {
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/**
 * Save/verify progress on stderr: a bar redrawn in place on a terminal (bytes, rate, ETA when
 * the total is known), a plain line every few seconds otherwise.
 */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private bytes = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly what: string,
    private readonly total?: number,
  ) {}

  update(bytes: number): void {
    this.bytes = bytes;
    const now = Date.now();
    const interval = this.out.isTTY ? 100 : 5000;
    if (now - this.lastDraw < interval) return;
    this.lastDraw = now;
    this.draw(now);
  }

  done(): void {
    if (this.out.isTTY && this.lastDraw > 0) this.out.write('\r\x1b[K');
  }

  private draw(now: number): void {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.bytes / seconds;
    let text = `${this.what}: ${humanizeBytesShort(this.bytes)} at ${humanizeBytesShort(rate)}/s`;
    if (this.total !== undefined && this.total > 0) {
      const ratio = Math.min(this.bytes / this.total, 1);
      const eta = rate > 0 ? Math.ceil((this.total - this.bytes) / rate) : 0;
      const width = 24;
      const filled = Math.round(ratio * width);
      text = `${this.what} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${humanizeBytesShort(this.bytes)} at ${humanizeBytesShort(rate)}/s ETA ${eta}s`;
    }
    if (this.out.isTTY) this.out.write(`\r\x1b[K${text}`);
    else this.out.write(`${text}\n`);
  }
}
