// Child process of lock.test.ts: takes the lock on a data dir and holds it until its stdin
// closes. Prints `locked <pid>`, or `refused <message>` when the lock is taken.
import { lockDataDir } from '../../../src/server/datadir/lock.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: lock-holder DATA_DIR');
try {
  const lock = await lockDataDir(dataDir);
  process.stdout.write(`locked ${process.pid}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void lock.release().then(() => process.stdout.write('released\n'));
  });
} catch (err) {
  process.stdout.write(`refused ${(err as Error).message}\n`);
  process.exitCode = 1;
}
