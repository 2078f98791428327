// Preloaded into a server process (NODE_OPTIONS=--import <this file>; Node 20 refuses --cpu-prof
// there): records a V8 CPU profile and writes it to $STRATA_CPU_PROF_DIR/<pid>.cpuprofile at exit.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env['STRATA_CPU_PROF_DIR'];
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  // A same-thread session answers synchronously, so this works inside the 'exit' handler.
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}

/** The environment that makes a node process started with it write a CPU profile into `dir`. */
export function cpuProfileEnv(dir: string): NodeJS.ProcessEnv {
  return { NODE_OPTIONS: `--import ${import.meta.url}`, STRATA_CPU_PROF_DIR: dir };
}
