import { join } from 'node:path';
import { WalCorruptError } from './errors.js';
import type { EntryRun } from './log-runs.js';
import { RecordType } from './record.js';
import { SegmentReader } from './segment-reader.js';
import type { WalEntry } from './types.js';

/**
 * Reads the live entries of `runs` in batches of about `maxBytes` of entry data, so a log
 * of many segments is never held at once. Records are re-verified as they are read.
 */
export async function* readRuns(
  dir: string,
  runs: readonly EntryRun[],
  aboveIndex: number,
  maxBytes: number,
): AsyncGenerator<WalEntry[]> {
  let batch: WalEntry[] = [];
  let bytes = 0;
  for (const run of runs) {
    const path = join(dir, run.segment.file);
    const reader = await SegmentReader.open(path, run.offset, run.crc);
    try {
      let expected = run.first;
      while (expected <= run.last) {
        const outcome = await reader.next();
        if (outcome.kind !== 'record') {
          const reason = outcome.kind === 'end' ? `entry ${expected} is missing` : outcome.reason;
          throw new WalCorruptError(path, outcome.kind === 'end' ? reader.offset : outcome.offset, `${reason} (the file changed while open?)`);
        }
        if (outcome.record.type !== RecordType.entry) continue;
        const entry = outcome.record.entry;
        if (entry.index !== expected) {
          throw new WalCorruptError(path, outcome.offset, `expected entry ${expected}, found ${entry.index} (the file changed while open?)`);
        }
        expected++;
        if (entry.index <= aboveIndex) continue;
        batch.push(entry);
        bytes += entry.data.length;
        if (bytes >= maxBytes) {
          yield batch;
          batch = [];
          bytes = 0;
        }
      }
    } finally {
      await reader.close();
    }
  }
  if (batch.length > 0) yield batch;
}
