import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../util/log.js';
import { WalCorruptError } from './errors.js';
import { LogRuns, type EntryRun } from './log-runs.js';
import { RecordType } from './record.js';
import { SegmentReader } from './segment-reader.js';
import type { SegmentName } from './segment-name.js';
import type { HardState, SnapshotMarker } from './types.js';

/** What one verifying pass over every segment learns; entries themselves are read later. */
export interface WalScan {
  metadata: Buffer;
  hardState: HardState | undefined;
  /** The latest snapshot marker, and every marker seen (for releasing segments). */
  snapshot: SnapshotMarker | undefined;
  markers: SnapshotMarker[];
  /** Live entries above the latest snapshot marker, as runs in log order. */
  runs: EntryRun[];
  lastEntryIndex: number;
  /** Size and running CRC of the last segment after any repair: where appending resumes. */
  tail: { size: number; crc: number };
}

/**
 * Reads and verifies `segments` (in sequence order, at least one) in `dir`. A bad record
 * at the end of the last segment is a torn write: with `repair` it is truncated away with a
 * warning, without it is only left out. Anything else bad throws WalCorruptError.
 */
export async function scanWal(
  dir: string,
  segments: readonly SegmentName[],
  logger: Logger,
  options: { repair: boolean },
): Promise<WalScan> {
  let metadata: Buffer | undefined;
  let hardState: HardState | undefined;
  let snapshot: SnapshotMarker | undefined;
  const markers: SnapshotMarker[] = [];
  const runs = new LogRuns();
  let crc: number | undefined;
  let tail = { size: 0, crc: 0 };

  for (const [position, segment] of segments.entries()) {
    const path = join(dir, segment.file);
    const isLast = position === segments.length - 1;
    const previous = segments[position - 1];
    if (previous !== undefined && segment.seq !== previous.seq + 1) {
      throw new WalCorruptError(path, 0, `segment ${previous.seq + 1} is missing before it`);
    }
    const reader = await SegmentReader.open(path, 0, crc);
    try {
      if (!(await reader.hasMagic())) throw new WalCorruptError(path, 0, 'not a strata WAL segment (bad magic)');
      let sawMetadata = false;
      for (;;) {
        const crcBefore = reader.crc ?? 0;
        const outcome = await reader.next();
        if (outcome.kind === 'end') break;
        if (outcome.kind === 'bad') {
          if (!(isLast && sawMetadata && outcome.tornCandidate)) {
            throw new WalCorruptError(path, outcome.offset, outcome.reason);
          }
          const fields = { file: path, offset: outcome.offset, droppedBytes: reader.size - outcome.offset, reason: outcome.reason };
          if (options.repair) {
            await truncateTornTail(path, outcome.offset);
            logger.warn('WAL: truncated a torn write at the end of the last segment', fields);
          } else {
            logger.debug('WAL: left out an incomplete record at the end of the last segment', fields);
          }
          break;
        }
        const { record, offset } = outcome;
        switch (record.type) {
          case RecordType.metadata:
            if (metadata !== undefined && !metadata.equals(record.metadata)) {
              throw new WalCorruptError(path, offset, "metadata differs from the first segment's (a segment of another member?)");
            }
            metadata = Buffer.from(record.metadata);
            sawMetadata = true;
            break;
          case RecordType.hardState:
            hardState = record.hardState;
            break;
          case RecordType.snapshot:
            snapshot = record.snapshot;
            markers.push(record.snapshot);
            break;
          case RecordType.entry: {
            const { index } = record.entry;
            if (runs.add(index, segment, offset, crcBefore, snapshot?.index ?? 0) === 'gap') {
              throw new WalCorruptError(path, offset, `entry ${index} leaves a gap after entry ${runs.lastIndex}`);
            }
            break;
          }
          case RecordType.crc:
            break;
        }
      }
      if (!sawMetadata) throw new WalCorruptError(path, reader.offset, 'the segment has no metadata record');
      crc = reader.crc;
      tail = { size: reader.offset, crc: reader.crc ?? 0 };
    } finally {
      await reader.close();
    }
  }
  const above = snapshot?.index ?? 0;
  return {
    metadata: metadata ?? Buffer.alloc(0),
    hardState,
    snapshot,
    markers,
    runs: runs.runs.filter((run) => run.last > above),
    lastEntryIndex: runs.lastIndex,
    tail,
  };
}

async function truncateTornTail(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(offset);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
