// A benchmark starts servers and temporary dirs; this runs its main so that every one of them
// is stopped and removed whatever happens: normal end, a failure, Ctrl-C or SIGTERM.

/** Stops, kills and removals to run at the end, last registered first. */
export class Cleanup {
  private readonly tasks: Array<() => Promise<void>> = [];

  /** Registers `task`; the returned function runs it now (once) and takes it off the list. */
  add(task: () => Promise<void> | void): () => Promise<void> {
    let done = false;
    const once = async (): Promise<void> => {
      if (done) return;
      done = true;
      const at = this.tasks.indexOf(once);
      if (at >= 0) this.tasks.splice(at, 1);
      await task();
    };
    this.tasks.push(once);
    return once;
  }

  /** Runs every task still registered; a failing task does not keep the others from running. */
  async runAll(): Promise<void> {
    for (let task = this.tasks.at(-1); task !== undefined; task = this.tasks.at(-1)) {
      await task().catch((err: unknown) => process.stderr.write(`bench cleanup: ${err instanceof Error ? err.message : String(err)}\n`));
    }
  }
}

/** Runs `main`, then the cleanup; on SIGINT/SIGTERM runs the cleanup and exits 130/143. */
export function runBench(main: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    interrupted = true;
    process.stderr.write(`bench: ${signal}, stopping servers and removing temporary dirs\n`);
    void cleanup.runAll().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  main(cleanup)
    .catch((err: unknown) => {
      // Stopping the servers under a running load fails it; that is no news after a signal.
      if (interrupted) return;
      process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    })
    .finally(() => cleanup.runAll())
    .finally(() => {
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
    });
}
