import { formatBytes } from '../util/byte-size.js';

/** What Progress writes to: stderr, or a stand-in in tests. */
export type ProgressOutput = Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;

/** Returns to the start of the terminal line and clears it. */
export const CLEAR_LINE = '\r\x1b[K';

/** Redraws of the bar on a terminal, and plain lines otherwise. */
const TTY_INTERVAL_MS = 100;
const LINE_INTERVAL_MS = 5000;

/**
 * Long work's progress on stderr: a bar redrawn in place on a terminal (bytes, rate, ETA when
 * the total or the share done is known), a plain line every few seconds otherwise. Off a
 * terminal the first line comes only after one interval, so that work done in seconds (or a
 * run that fails at once with its one-line error) logs nothing more.
 */
export class Progress {
  private readonly started: number;
  private lastDraw: number;
  private bytes = 0;
  private fraction: number | undefined;

  constructor(
    private readonly out: ProgressOutput,
    private readonly what: string,
    private readonly total?: number,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.lastDraw = out.isTTY ? 0 : this.started;
  }

  /** `fraction`: the share of the work done (0..1) when the bytes' total is unknown but the source can tell. */
  update(bytes: number, fraction?: number): void {
    this.bytes = bytes;
    this.fraction = fraction;
    const now = this.now();
    const interval = this.out.isTTY ? TTY_INTERVAL_MS : LINE_INTERVAL_MS;
    if (now - this.lastDraw < interval) return;
    this.lastDraw = now;
    this.draw(now);
  }

  /** Clears the bar from the terminal (the summary or the error line follows). */
  done(): void {
    if (this.out.isTTY && this.lastDraw > 0) this.out.write(CLEAR_LINE);
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
    if (this.out.isTTY) this.out.write(`${CLEAR_LINE}${text}`);
    else this.out.write(`${text}\n`);
  }
}

/**
 * Runs `work` with a Progress on stderr that `report` feeds, made at the first report (so that
 * rate and ETA count from the first byte, with the total known by then) and cleared when the
 * work ends, before any summary or error line.
 */
export async function withProgress<T>(
  what: string,
  work: (report: (bytes: number, total?: number, fraction?: number) => void) => Promise<T>,
): Promise<T> {
  let progress: Progress | undefined;
  try {
    return await work((bytes, total, fraction) => (progress ??= new Progress(process.stderr, what, total)).update(bytes, fraction));
  } finally {
    progress?.done();
  }
}
