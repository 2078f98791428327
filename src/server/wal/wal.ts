import { mkdir, open, readdir, rename, rm, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StrataError, errorMessage } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { fsyncDir, writeFully } from './durable-fs.js';
import { MAX_RECORD_BYTES, RecordType, SEGMENT_MAGIC, encodeRecords, type WalRecord } from './record.js';
import { readRuns } from './replay.js';
import { scanWal, type WalScan } from './scan.js';
import { listSegments, segmentFileName, type SegmentName } from './segment-name.js';
import type { HardState, SnapshotMarker, WalEntry } from './types.js';

export interface WalOptions {
  logger?: Logger;
  /** A new segment is cut once the current one reaches this size (etcd's is 64 MB). */
  segmentBytes?: number;
}

/** What the loop needs to rebuild its state after Wal.open. */
export interface WalReplay {
  /** The opaque bytes given to Wal.create (cluster and member ID). */
  metadata: Buffer;
  hardState: HardState | undefined;
  snapshot: SnapshotMarker | undefined;
  /** The last index of the log: its last entry, or the snapshot when that lies beyond. */
  lastIndex: number;
  /**
   * The live entries above the snapshot marker, in index order, in batches of about
   * `maxBatchBytes` of entry data. Finish it before calling releaseTo.
   */
  entries(maxBatchBytes?: number): AsyncGenerator<WalEntry[]>;
}

/** Counters a test or /metrics can read: group commit shows as syncs ≪ appends. */
export interface WalStats {
  appends: number;
  writes: number;
  syncs: number;
  segmentsCut: number;
}

interface Pending {
  records: WalRecord[];
  /** Whether the records must be durable before the promise resolves (else written is enough). */
  sync: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface TailState {
  segments: SegmentName[];
  handle: FileHandle;
  size: number;
  crc: number;
  metadata: Buffer;
  hardState: HardState | undefined;
  markers: SnapshotMarker[];
  lastEntryIndex: number;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_REPLAY_BATCH_BYTES = 4 * 1024 * 1024;
/** An entry record's payload is its data plus term, index and type. */
const MAX_ENTRY_BYTES = MAX_RECORD_BYTES - 17;

/**
 * The write-ahead log: segments `%016x-%016x.wal` (sequence, first index) in one directory.
 * Appends are group-committed: calls that arrive while a write + fdatasync runs are framed
 * into the next single write + fdatasync, and each promise resolves once its records are
 * durable. As etcd's MustSync rule has it, a hard state that only moves the commit index is
 * written without a sync of its own (the next one covers it): raft needs its log, term and vote
 * on disk before it answers, not the commit index, which a restarted member learns again.
 * After a failed write or sync the WAL refuses further writes: what reached the disk is
 * unknown until it is reopened.
 */
export class Wal {
  private readonly logger: Logger;
  private readonly segmentBytes: number;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private failure: StrataError | undefined;
  private closed = false;
  private readonly counters: WalStats = { appends: 0, writes: 0, syncs: 0, segmentsCut: 0 };
  /** The last entry and snapshot index accepted so far (queued or durable), for gap checks. */
  private acceptedLast: number;
  private acceptedSnapshot: number;
  /** The hard state last accepted, to tell whether a new one changes the term or vote. */
  private acceptedHardState: HardState | undefined;
  /** Records were written to the current segment since its last fdatasync. */
  private unsynced = false;

  private constructor(
    readonly dir: string,
    private readonly state: TailState,
    options: WalOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.acceptedLast = state.lastEntryIndex;
    this.acceptedSnapshot = state.markers.at(-1)?.index ?? 0;
    this.acceptedHardState = state.hardState;
  }

  /** Whether `dir` holds WAL segments (a missing dir holds none). */
  static async exists(dir: string): Promise<boolean> {
    try {
      return (await listSegments(dir)).length > 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * Creates a WAL holding `metadata` in `dir` (absent or empty). Like etcd it is built in
   * `<dir>.tmp` and renamed into place, so a crash never leaves a half-made WAL.
   */
  static async create(dir: string, metadata: Uint8Array, options: WalOptions = {}): Promise<Wal> {
    if (await Wal.exists(dir)) {
      throw new StrataError('STRATA_WAL_EXISTS', `Cannot create a WAL in '${dir}': it already holds one; open it instead`);
    }
    const tmp = `${dir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    const meta = Buffer.from(metadata);
    const first = segmentFileName(0, 0);
    const { bytes, crc } = encodeRecords([{ type: RecordType.crc, crc: 0 }, { type: RecordType.metadata, metadata: meta }], 0);
    const file = Buffer.concat([SEGMENT_MAGIC, bytes]);
    const created = await open(join(tmp, first), 'w', 0o600);
    try {
      await writeFully(created, file, 0);
      await created.datasync();
    } finally {
      await created.close();
    }
    await fsyncDir(tmp);
    await removeEmptyDir(dir);
    await rename(tmp, dir);
    await fsyncDir(dirname(dir));
    const handle = await open(join(dir, first), 'r+');
    return new Wal(
      dir,
      { segments: [{ seq: 0, firstIndex: 0, file: first }], handle, size: file.length, crc, metadata: meta, hardState: undefined, markers: [], lastEntryIndex: 0 },
      options,
    );
  }

  /**
   * Opens the WAL in `dir`: verifies every segment, repairs a torn tail (logged), and
   * returns it ready to append together with what replay needs.
   */
  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: Wal; replay: WalReplay }> {
    const logger = options.logger ?? silentLogger;
    await removeStaleTemps(dir);
    const segments = await segmentsOf(dir);
    const scan = await scanWal(dir, segments, logger, { repair: true });
    const handle = await open(join(dir, segments.at(-1)!.file), 'r+');
    const wal = new Wal(
      dir,
      {
        segments: [...segments],
        handle,
        size: scan.tail.size,
        crc: scan.tail.crc,
        metadata: scan.metadata,
        hardState: scan.hardState,
        markers: scan.markers,
        lastEntryIndex: scan.lastEntryIndex,
      },
      options,
    );
    return { wal, replay: replayOf(dir, scan) };
  }

  /**
   * Reads the WAL in `dir` without changing it (for tools, possibly while a server appends):
   * a torn or still-being-written tail is left alone and not returned.
   */
  static async read(dir: string, options: { logger?: Logger } = {}): Promise<WalReplay> {
    const scan = await scanWal(dir, await segmentsOf(dir), options.logger ?? silentLogger, { repair: false });
    return replayOf(dir, scan);
  }

  get stats(): Readonly<WalStats> {
    return { ...this.counters };
  }

  /** The last entry index accepted (queued or durable). */
  get lastIndex(): number {
    return this.acceptedLast;
  }

  /**
   * Appends `entries` (consecutive indexes; the first may go back to overwrite a tail) and
   * then `hardState`; resolves once they are durable, or only written when there are no
   * entries and the hard state keeps its term and vote (see the class comment).
   */
  append(entries: readonly WalEntry[], hardState?: HardState): Promise<void> {
    const records: WalRecord[] = [];
    try {
      this.checkWritable();
      this.checkEntries(entries);
      if (hardState !== undefined) checkHardState(hardState);
    } catch (err) {
      return Promise.reject(err);
    }
    for (const entry of entries) records.push({ type: RecordType.entry, entry });
    if (hardState !== undefined) records.push({ type: RecordType.hardState, hardState });
    const last = entries.at(-1);
    if (last !== undefined) this.acceptedLast = last.index;
    const previous = this.acceptedHardState;
    const sync = entries.length > 0 || (hardState !== undefined && (previous === undefined || hardState.term !== previous.term || hardState.vote !== previous.vote));
    if (hardState !== undefined) this.acceptedHardState = hardState;
    return this.enqueue(records, sync);
  }

  /** Records that a raft snapshot was taken at (term, index); durable when it resolves. */
  saveSnapshotMarker(term: number, index: number): Promise<void> {
    try {
      this.checkWritable();
      checkIndex('snapshot term', term);
      checkIndex('snapshot index', index);
    } catch (err) {
      return Promise.reject(err);
    }
    this.acceptedSnapshot = index;
    return this.enqueue([{ type: RecordType.snapshot, snapshot: { term, index } }], true);
  }

  /**
   * Deletes the segments that hold only entries below the latest durable snapshot marker
   * at or below `index`; the segment holding that marker's entry is kept.
   */
  async releaseTo(index: number): Promise<void> {
    let marker: SnapshotMarker | undefined;
    for (const m of this.state.markers) if (m.index <= index && (marker === undefined || m.index >= marker.index)) marker = m;
    if (marker === undefined) return;
    const { segments } = this.state;
    let keep = 0;
    for (const [position, segment] of segments.entries()) if (segment.firstIndex <= marker.index) keep = position;
    keep = Math.min(keep, segments.length - 1);
    if (keep === 0) return;
    const doomed = segments.slice(0, keep);
    this.state.segments = segments.slice(keep);
    for (const segment of doomed) await unlink(join(this.dir, segment.file));
    await fsyncDir(this.dir);
    const floor = marker.index;
    this.state.markers = this.state.markers.filter((m) => m.index >= floor);
    this.logger.info('WAL: released segments below a snapshot', { snapshotIndex: floor, released: doomed.map((s) => s.file) });
  }

  /** Waits for queued appends, then closes the segment file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    if (this.unsynced) await this.syncTail();
    await this.state.handle.close();
  }

  private checkWritable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new StrataError('STRATA_WAL_CLOSED', `Cannot append to the WAL in '${this.dir}': it is closed`);
  }

  private checkEntries(entries: readonly WalEntry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const limit = Math.max(this.acceptedLast, this.acceptedSnapshot) + 1;
    if (this.acceptedLast !== 0 || this.acceptedSnapshot !== 0) {
      if (first.index > limit) throw new RangeError(`WAL append of entry ${first.index} would leave a gap after ${limit - 1}`);
    }
    for (const [i, entry] of entries.entries()) {
      checkIndex('entry term', entry.term);
      checkIndex('entry index', entry.index);
      if (entry.index !== first.index + i) throw new RangeError(`WAL append: entry ${entry.index} does not follow ${first.index + i - 1}`);
      if (!Number.isInteger(entry.type) || entry.type < 0 || entry.type > 255) throw new RangeError(`WAL append: entry type ${entry.type} is not a byte`);
      if (entry.data.length > MAX_ENTRY_BYTES) throw new RangeError(`WAL append: entry ${entry.index} of ${entry.data.length} bytes exceeds ${MAX_ENTRY_BYTES}`);
    }
  }

  private enqueue(records: WalRecord[], sync: boolean): Promise<void> {
    this.counters.appends++;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ records, sync, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        // One macrotask hop lets callers woken by the previous batch queue their next append
        // into this one; it costs microseconds against a sync's hundreds.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.pending;
        this.pending = [];
        try {
          await this.writeBatch(
            batch.flatMap((p) => p.records),
            batch.some((p) => p.sync),
          );
          for (const p of batch) p.resolve();
        } catch (err) {
          this.failure = new StrataError(
            'STRATA_WAL_WRITE',
            `Cannot write the WAL in '${this.dir}': ${errorMessage(err)}; fix the disk and restart the server`,
            { cause: err },
          );
          this.logger.error('WAL: write failed, refusing further writes', { dir: this.dir, error: err });
          for (const p of [...batch, ...this.pending]) p.reject(this.failure);
          this.pending = [];
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeBatch(records: WalRecord[], sync: boolean): Promise<void> {
    if (this.state.size >= this.segmentBytes) await this.cut();
    const { bytes, crc } = encodeRecords(records, this.state.crc);
    await writeFully(this.state.handle, bytes, this.state.size);
    this.counters.writes++;
    this.unsynced = true;
    if (sync) await this.syncTail();
    this.state.size += bytes.length;
    this.state.crc = crc;
    for (const record of records) {
      if (record.type === RecordType.entry) this.state.lastEntryIndex = record.entry.index;
      else if (record.type === RecordType.hardState) this.state.hardState = record.hardState;
      else if (record.type === RecordType.snapshot) this.state.markers.push(record.snapshot);
    }
  }

  private async syncTail(): Promise<void> {
    await this.state.handle.datasync();
    this.counters.syncs++;
    this.unsynced = false;
  }

  /** Starts the next segment; its header repeats the metadata, hard state and latest marker. */
  private async cut(): Promise<void> {
    const { state } = this;
    const seq = state.segments.at(-1)!.seq + 1;
    const latestMarker = state.markers.at(-1);
    const firstIndex = Math.max(state.lastEntryIndex, latestMarker?.index ?? 0) + 1;
    const file = segmentFileName(seq, firstIndex);
    const header: WalRecord[] = [
      { type: RecordType.crc, crc: state.crc },
      { type: RecordType.metadata, metadata: state.metadata },
    ];
    if (state.hardState !== undefined) header.push({ type: RecordType.hardState, hardState: state.hardState });
    if (latestMarker !== undefined) header.push({ type: RecordType.snapshot, snapshot: latestMarker });
    const { bytes, crc } = encodeRecords(header, state.crc);
    const content = Buffer.concat([SEGMENT_MAGIC, bytes]);
    // The next segment's CRC chain starts from this one's end, which must be on disk first.
    if (this.unsynced) await this.syncTail();
    const tmpPath = join(this.dir, `${file}.tmp`);
    const handle = await open(tmpPath, 'w+', 0o600);
    try {
      await writeFully(handle, content, 0);
      await handle.datasync();
      await rename(tmpPath, join(this.dir, file));
      await fsyncDir(this.dir);
    } catch (err) {
      await handle.close();
      throw err;
    }
    this.counters.syncs += 2;
    this.counters.segmentsCut++;
    await state.handle.close();
    state.handle = handle;
    state.size = content.length;
    state.crc = crc;
    state.segments.push({ seq, firstIndex, file });
    this.logger.debug('WAL: cut a new segment', { file });
  }
}

async function segmentsOf(dir: string): Promise<SegmentName[]> {
  const segments = (await Wal.exists(dir)) ? await listSegments(dir) : [];
  if (segments.length === 0) {
    throw new StrataError('STRATA_WAL_MISSING', `Cannot open the WAL in '${dir}': it holds no segments; restore from a snapshot or move the data dir aside`);
  }
  return segments;
}

function replayOf(dir: string, scan: WalScan): WalReplay {
  const snapshotIndex = scan.snapshot?.index ?? 0;
  return {
    metadata: scan.metadata,
    hardState: scan.hardState,
    snapshot: scan.snapshot,
    lastIndex: Math.max(scan.lastEntryIndex, snapshotIndex),
    entries: (maxBatchBytes = DEFAULT_REPLAY_BATCH_BYTES) => readRuns(dir, scan.runs, snapshotIndex, maxBatchBytes),
  };
}

async function removeEmptyDir(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw new StrataError('STRATA_WAL_EXISTS', `Cannot create a WAL in '${dir}': the directory holds other files; move them aside`);
    }
    throw err;
  }
}

function checkHardState(hardState: HardState): void {
  checkIndex('hard state term', hardState.term);
  checkIndex('hard state commit', hardState.commit);
  if (hardState.vote < 0n || hardState.vote >= 1n << 64n) throw new RangeError(`WAL: vote ${hardState.vote} is not a uint64 member ID`);
}

function checkIndex(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`WAL: ${what} ${value} is not a non-negative safe integer`);
}

/** A crash during a cut leaves `<segment>.wal.tmp`; it never became part of the log. */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) if (name.endsWith('.wal.tmp')) await unlink(join(dir, name));
}
