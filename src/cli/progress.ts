import { formatBytes } from '../util/byte-size.js';

/**
 * Save/verify progress on stderr: a bar redrawn in place on a terminal (bytes, rate, ETA when
 * the total or the share done is known), a plain line every few seconds otherwise.
 */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private bytes = 0;
  private fraction: number | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly what: string,
    private readonly total?: number,
  ) {}

  /** `fraction`: the share of the work done (0..1) when the bytes' total is unknown but the source can tell. */
  update(bytes: number, fraction?: number): void {
    this.bytes = bytes;
    this.fraction = fraction;
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
    let text = `${this.what}: ${formatBytes(this.bytes)} at ${formatBytes(rate)}/s`;
    const ratio = this.total !== undefined && this.total > 0 ? Math.min(this.bytes / this.total, 1) : this.fraction;
    if (ratio !== undefined && ratio > 0) {
      const eta = Math.ceil((seconds * (1 - ratio)) / ratio);
      const width = 24;
      const filled = Math.round(ratio * width);
      text = `${this.what} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${formatBytes(this.bytes)} at ${formatBytes(rate)}/s ETA ${eta}s`;
    }
    if (this.out.isTTY) this.out.write(`\r\x1b[K${text}`);
    else this.out.write(`${text}\n`);
  }
}
