import type { RunningProcess } from './process.js';

/** A server process that can be halted and started again with the same arguments. */
export interface Restartable {
  /** Everything it wrote to stderr across restarts. */
  log(): string;
  /** SIGTERM and wait for the exit; a no-op when it is not running. */
  halt(): Promise<void>;
  /** Starts it again and waits until it is ready. */
  restart(): Promise<void>;
}

/**
 * Starts `spawn()` and waits until `ready(stderr)` holds (30 s at most); restart() does the
 * same again, so a test can stop a server and bring it back on the same ports and data dir.
 * A process that does not get ready is killed.
 */
export async function startRestartable(spawn: () => RunningProcess, ready: (stderr: string) => boolean, what: string): Promise<Restartable> {
  let running: RunningProcess | undefined;
  let earlier = '';
  const launch = async (): Promise<void> => {
    const child = spawn();
    try {
      await child.waitFor((_out, err) => ready(err), 30_000, what);
    } catch (err) {
      // A server that never became ready must not outlive the test.
      await child.stop('SIGKILL');
      throw err;
    }
    running = child;
  };
  await launch();
  return {
    log: () => earlier + (running?.stderr ?? ''),
    halt: async () => {
      if (!running) return;
      earlier += (await running.stop('SIGTERM')).stderr;
      running = undefined;
    },
    restart: launch,
  };
}
