import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the process (SIGKILL) after this many ms; the result then has signal SIGKILL. Default 30 s. */
  timeoutMs?: number;
  input?: string | Buffer;
  cwd?: string;
}

function findUp(from: string, marker: string): string {
  for (let dir = from; ; ) {
    if (existsSync(join(dir, marker))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no ${marker} above ${from}`);
    dir = parent;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
/** The checkout: the first folder above this file holding package.json. */
export const repoRoot = findUp(here, 'package.json');
/**
 * The compiled tree these tests run from (dist/ or a helper's .build/NAME/): bin/strata is
 * pointed at it with STRATA_DIST so a test runs the code it was compiled with.
 */
export const buildRoot = dirname(dirname(here));
export const strataBin = join(repoRoot, 'bin', 'strata');

/** A running child process whose output is collected; wait for output with waitFor(). */
export class RunningProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<ProcessResult>;
  private readonly listeners = new Set<() => void>();

  constructor(command: string, args: readonly string[], options: RunOptions = {}) {
    this.child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) this.child.stdin?.end(options.input);
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.notify();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.notify();
    });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        this.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves once `test(stdout, stderr)` holds; rejects at the deadline or when the process ends first. */
  waitFor(test: (stdout: string, stderr: string) => boolean, timeoutMs = 15_000, what = 'expected output'): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const check = (): void => {
        if (test(this.stdout, this.stderr)) finish();
        else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          finish(new Error(`process ended before ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`no ${what} within ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)),
        timeoutMs,
      );
      this.listeners.add(check);
      check();
    });
  }

  /** Sends a signal (default SIGTERM) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcessResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Runs a program to its end (killed after the timeout) and returns its exit code and output. */
export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new RunningProcess(command, args, options).exited;
}

const strataEnv = (env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv => ({ STRATA_DIST: buildRoot, ...env });
const etcdctlEnv = (env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv => ({ ETCDCTL_API: '3', ...env });

/** `bin/strata args…` run from this build. */
export function runStrata(args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [strataBin, ...args], { ...options, env: strataEnv(options.env) });
}

/** Debian's `etcdctl args…` with ETCDCTL_API=3. */
export function runEtcdctl(args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runProcess('etcdctl', args, { ...options, env: etcdctlEnv(options.env) });
}

/** Starts `bin/strata args…` (e.g. a watch) and returns it running. */
export function startStrata(args: readonly string[], options: RunOptions = {}): RunningProcess {
  return new RunningProcess(process.execPath, [strataBin, ...args], { ...options, env: strataEnv(options.env) });
}

/** Starts `etcdctl args…` (e.g. a watch) and returns it running. */
export function startEtcdctl(args: readonly string[], options: RunOptions = {}): RunningProcess {
  return new RunningProcess('etcdctl', args, { ...options, env: etcdctlEnv(options.env) });
}
