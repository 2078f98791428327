// Child process of crash.test.ts: appends 1 KiB entries from many concurrent callers and
// prints each index once its append has resolved (durable), until it is killed.
import { Wal } from '../../../src/server/wal/wal.js';
import { makeEntry } from './helpers.js';

const [walDir, concurrencyText] = process.argv.slice(2);
if (walDir === undefined || concurrencyText === undefined) throw new Error('usage: crash-writer WAL_DIR CONCURRENCY');
const options = { segmentBytes: 64 * 1024 };
const wal = (await Wal.exists(walDir))
  ? (await Wal.open(walDir, options)).wal
  : await Wal.create(walDir, Buffer.from('crash-test'), options);

let next = wal.lastIndex + 1;
async function worker(): Promise<never> {
  for (;;) {
    const index = next++;
    await wal.append([makeEntry(index, 1, 1024)], { term: 1, vote: 1n, commit: index });
    process.stdout.write(`${index}\n`);
  }
}
await Promise.all(Array.from({ length: Number(concurrencyText) }, worker));
