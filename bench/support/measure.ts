// Runs one command to the end as a child process and measures it: wall time, and for a node
// child (bin/strata) its peak RSS and CPU time through the peak-rss preload.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

export interface Measured {
  seconds: number;
  /** Peak RSS in MiB; undefined for a program that is not node. */
  maxRssMiB?: number;
  /** User + system CPU seconds of a node child (with `rss`): steadier than wall time on a busy machine. */
  cpuSeconds?: number;
  stdout: string;
  stderr: string;
}

const preload = fileURLToPath(new URL('./peak-rss.js', import.meta.url));

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  /** Measure peak RSS (the command must be a node program). */
  rss?: boolean;
  /** Registers a kill for the running child, so Ctrl-C does not leave it behind. */
  onChild?: (kill: () => void) => () => void;
}

export async function measure(command: string, args: readonly string[], options: MeasureOptions = {}): Promise<Measured> {
  const rssFile = join(tmpdir(), `strata-bench-rss-${randomBytes(6).toString('hex')}`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.rss === true) {
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
    env.STRATA_BENCH_RSS_FILE = rssFile;
  }
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = options.onChild?.(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
    const result: Measured = { seconds, stdout, stderr };
    if (options.rss === true) {
      const [maxRss = NaN, user = NaN, system = NaN] = readFileSync(rssFile, 'utf8').trim().split(' ').map(Number);
      result.maxRssMiB = maxRss / 1024;
      result.cpuSeconds = (user + system) / 1e6;
    }
    return result;
  } finally {
    unregister?.();
    rmSync(rssFile, { force: true });
  }
}
