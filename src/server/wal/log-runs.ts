import type { SegmentName } from './segment-name.js';

/**
 * Where the live entries are, without holding them: maximal runs of consecutive indexes
 * stored in one segment. A record for index i supersedes every earlier record ≥ i, so it
 * cuts the runs back before starting its own.
 */
export interface EntryRun {
  segment: SegmentName;
  /** Byte offset of the run's first entry record, and the running CRC just before it. */
  offset: number;
  crc: number;
  first: number;
  last: number;
}

export type AddResult = 'ok' | 'gap';

export class LogRuns {
  readonly runs: EntryRun[] = [];
  /** After a truncation the tail run's byte span holds superseded records, so it must not grow. */
  private tailSealed = false;

  get lastIndex(): number {
    return this.runs.at(-1)?.last ?? 0;
  }

  /** Records entry `index`; a jump past the end is allowed only onto a snapshot at `snapshotIndex`. */
  add(index: number, segment: SegmentName, offset: number, crc: number, snapshotIndex: number): AddResult {
    if (this.runs.length > 0) {
      if (index > this.lastIndex + 1) {
        if (index > snapshotIndex + 1) return 'gap';
        this.runs.length = 0;
      } else if (index <= this.lastIndex) {
        this.truncateFrom(index);
      }
    }
    const tail = this.runs.at(-1);
    if (tail !== undefined && !this.tailSealed && tail.segment === segment && tail.last === index - 1) {
      tail.last = index;
    } else {
      this.runs.push({ segment, offset, crc, first: index, last: index });
      this.tailSealed = false;
    }
    return 'ok';
  }

  private truncateFrom(index: number): void {
    while ((this.runs.at(-1)?.first ?? -Infinity) >= index) this.runs.pop();
    const tail = this.runs.at(-1);
    if (tail !== undefined && tail.last >= index) tail.last = index - 1;
    this.tailSealed = true;
  }
}
