import { closeSync, openSync, rmSync } from 'node:fs';
import { ByteKeyTable, hashBytes } from './byte-key-table.js';
import { SpillFileReader, viewOf } from './spill-file-reader.js';
import { SpillDirectory, writeFullySync, type SpillOptions } from './temp-files.js';

/**
 * Applies a stream of records to per-key state when every key's records must be seen in order
 * but the keys need not be: verify's MVCC checks and etcd's HashKV of a compacted history. The
 * state lives in a ByteKeyTable while that stays under `memoryBytes`; past that, the table's
 * entries and every later record go to temporary files by a hash of their key (16 of them, in
 * stream order), and `finish` replays each file into a table of its own, splitting a file
 * again by further hash bits if its keys still do not fit. Memory stays bounded whatever the
 * number of keys; a few million small keys, as in a 1 GiB snapshot of short values, would
 * otherwise take several hundred MiB.
 *
 * `apply` must depend only on the record and its key's entry, and change nothing but the table:
 * a replay that outgrows memory is abandoned and its records applied again after the split.
 * When it throws, the error of the earliest record in stream order is the one thrown, as if
 * nothing had been spilled.
 */
export interface SpillingKeyTableOptions extends SpillOptions {
  /** Numbers kept per key (the table's columns). */
  stateFields: number;
  /** Numbers per record, as passed to `add` and `apply`. */
  recordFields: number;
  apply: (table: ByteKeyTable, key: Buffer, record: Float64Array) => void;
}

/**
 * Verify of a compacted history holds two such tables, each up to about twice this while it
 * grows: a small part of the 200 MiB a verify of a 1 GiB snapshot may take.
 */
const MEMORY_BYTES = 8 * 2 ** 20;
const PARTITION_BITS = 4;
const PARTITIONS = 1 << PARTITION_BITS;
/** Each level of splitting takes the next hash bits down; the table's slots use the lowest. */
const MAX_DEPTH = 32 / PARTITION_BITS - 1;
const WRITE_BUFFER_BYTES = 64 * 1024;
const READ_BUFFER_BYTES = 1024 * 1024;
/**
 * The table's size is looked at once this many key bytes (plus a record's worth each) came in
 * since the last look: often enough that large keys cannot overshoot the budget by much.
 */
const SIZE_CHECK_BYTES = 64 * 1024;
const RECORD_OVERHEAD_BYTES = 64;

/** A spilled record: kind, key length, then (for records) the stream ordinal, the numbers and the key. */
const RECORD = 0;
const STATE = 1;
const HEADER_BYTES = 5;

export class SpillingKeyTable {
  private readonly memoryBytes: number;
  private table: ByteKeyTable | undefined;
  /** The table once spilled, emptied and refilled by each replay: dropping it would leave its memory as garbage. */
  private replayTable: ByteKeyTable | undefined;
  private ordinal = 0;
  private readonly files: SpillDirectory;
  private partitions: PartitionWriter | undefined;
  private fileCount = 0;
  private earliest: { ordinal: number; error: unknown } | undefined;
  /** Starts full so that the first record looks (a tiny budget spills from the start). */
  private bytesSinceSizeCheck = SIZE_CHECK_BYTES;

  constructor(private readonly options: SpillingKeyTableOptions) {
    this.memoryBytes = options.memoryBytes ?? MEMORY_BYTES;
    this.table = new ByteKeyTable(options.stateFields);
    this.files = new SpillDirectory(options, 'strata-keys-');
  }

  /** Whether records have gone to disk. */
  get spilled(): boolean {
    return this.files.made;
  }

  /** `record` may be reused by the caller once this returns. */
  add(key: Buffer, record: Float64Array): void {
    const ordinal = this.ordinal++;
    if (this.table !== undefined) {
      this.options.apply(this.table, key, record);
      if (this.timeToCheckSize(key) && this.table.byteSize > this.memoryBytes) this.spill(this.table);
      return;
    }
    this.partitions!.write(RECORD, hashBytes(key), key, record, ordinal);
  }

  /**
   * Replays what was spilled and calls `visit` with each table once its keys are complete (one
   * table, or one per spilled file). Throws what `apply` threw for the earliest record. Removes
   * the temporary files either way.
   */
  finish(visit: (table: ByteKeyTable) => void): void {
    try {
      if (this.table !== undefined) {
        visit(this.table);
        return;
      }
      const paths = this.partitions!.close();
      this.partitions = undefined;
      for (const path of paths) this.replay(path, 1, visit);
      if (this.earliest !== undefined) throw this.earliest.error;
    } finally {
      this.close();
    }
  }

  /** Removes the temporary files; safe to call more than once. */
  close(): void {
    this.partitions?.abandon();
    this.partitions = undefined;
    this.files.remove();
  }

  private spill(table: ByteKeyTable): void {
    this.partitions = this.newPartitions(0);
    const state = new Float64Array(this.options.stateFields);
    table.forEachLive((entry) => {
      for (let field = 0; field < state.length; field++) state[field] = table.get(entry, field);
      const key = table.keyOf(entry);
      this.partitions!.write(STATE, hashBytes(key), key, state, 0);
    });
    this.table = undefined;
    this.replayTable = table;
  }

  private newPartitions(depth: number): PartitionWriter {
    const paths = Array.from({ length: PARTITIONS }, () => this.files.file(`${this.fileCount++}.keys`));
    return new PartitionWriter(paths, depth, (work) => this.files.guard(work));
  }

  private timeToCheckSize(key: Buffer): boolean {
    this.bytesSinceSizeCheck += key.length + RECORD_OVERHEAD_BYTES;
    if (this.bytesSinceSizeCheck < SIZE_CHECK_BYTES) return false;
    this.bytesSinceSizeCheck = 0;
    return true;
  }

  /** Applies one file's records to the emptied table; splits the file further when its keys do not fit. */
  private replay(path: string, depth: number, visit: (table: ByteKeyTable) => void): void {
    const table = this.replayTable!;
    table.clear();
    const numbers = this.numbersBuffer();
    const record = numbers.subarray(0, this.options.recordFields);
    let failed = false;
    for (const spilled of this.readSpilled(path, numbers)) {
      if (this.timeToCheckSize(spilled.key) && depth <= MAX_DEPTH && table.bytesInUse > this.memoryBytes) {
        this.split(path, depth, visit);
        return;
      }
      const entry = spilled.kind === STATE ? table.add(spilled.key) : -1;
      if (entry >= 0) {
        for (let field = 0; field < this.options.stateFields; field++) table.set(entry, field, numbers[field]!);
        continue;
      }
      // Records after the earliest failure so far cannot change what is thrown.
      if (this.earliest !== undefined && spilled.ordinal > this.earliest.ordinal) continue;
      try {
        this.options.apply(table, spilled.key, record);
      } catch (error) {
        this.earliest = { ordinal: spilled.ordinal, error };
        failed = true;
        break;
      }
    }
    rmSync(path, { force: true });
    if (!failed && this.earliest === undefined) visit(table);
  }

  private split(path: string, depth: number, visit: (table: ByteKeyTable) => void): void {
    const writer = this.newPartitions(depth);
    const numbers = this.numbersBuffer();
    for (const spilled of this.readSpilled(path, numbers)) {
      const fields = numbers.subarray(0, spilled.kind === STATE ? this.options.stateFields : this.options.recordFields);
      writer.write(spilled.kind, hashBytes(spilled.key), spilled.key, fields, spilled.ordinal);
    }
    rmSync(path, { force: true });
    for (const part of writer.close()) this.replay(part, depth + 1, visit);
  }

  /** Room for the numbers of a record or of a key's state, whichever has more. */
  private numbersBuffer(): Float64Array {
    return new Float64Array(Math.max(this.options.recordFields, this.options.stateFields));
  }

  /** The spilled records of one file in order; `fields` receives each one's numbers. */
  private *readSpilled(path: string, fields: Float64Array): Generator<{ kind: number; key: Buffer; ordinal: number }> {
    const fd = this.files.guard(() => openSync(path, 'r'));
    // One object for every record (the caller reads it before asking for the next).
    const spilled: { kind: number; key: Buffer; ordinal: number } = { kind: RECORD, key: Buffer.alloc(0), ordinal: 0 };
    try {
      const file = new SpillFileReader(fd, path, READ_BUFFER_BYTES, (work) => this.files.guard(work));
      while (file.fill(HEADER_BYTES)) {
        const length = this.spilledLength(file.buffer, file.view, file.start);
        file.fill(length); // Past a header the record is there whole, or fill() throws.
        const { buffer, view, start } = file;
        const kind = buffer[start]!;
        const keyLength = view.getUint32(start + 1, true);
        let at = start + HEADER_BYTES;
        let ordinal = 0;
        if (kind === RECORD) {
          ordinal = view.getFloat64(at, true);
          at += 8;
        }
        const count = kind === STATE ? this.options.stateFields : this.options.recordFields;
        for (let field = 0; field < count; field++, at += 8) fields[field] = view.getFloat64(at, true);
        spilled.kind = kind;
        spilled.key = buffer.subarray(at, at + keyLength);
        spilled.ordinal = ordinal;
        file.start = at + keyLength;
        yield spilled;
      }
    } finally {
      closeSync(fd);
    }
  }

  private spilledLength(buffer: Buffer, view: DataView, at: number): number {
    const numbers = buffer[at] === STATE ? this.options.stateFields : this.options.recordFields + 1;
    return HEADER_BYTES + numbers * 8 + view.getUint32(at + 1, true);
  }
}

/** Sixteen files, one per value of the key hash's bits at `depth`, written through buffers. */
class PartitionWriter {
  private readonly fds: number[];
  private readonly buffers: Buffer[];
  /** The numbers go in through DataViews: Buffer's writeDoubleLE was most of a spilled record's cost. */
  private readonly views: DataView[];
  private readonly used: number[];
  private readonly shift: number;
  private closed = false;

  constructor(
    private readonly paths: string[],
    depth: number,
    private readonly guardIo: <T>(work: () => T) => T,
  ) {
    this.shift = 32 - PARTITION_BITS * (depth + 1);
    this.fds = [];
    try {
      for (const path of paths) this.fds.push(guardIo(() => openSync(path, 'wx', 0o600)));
    } catch (err) {
      for (const fd of this.fds) closeSync(fd);
      throw err;
    }
    this.buffers = paths.map(() => Buffer.allocUnsafe(WRITE_BUFFER_BYTES));
    this.views = this.buffers.map(viewOf);
    this.used = paths.map(() => 0);
  }

  write(kind: number, hash: number, key: Buffer, fields: Float64Array, ordinal: number): void {
    const partition = (hash >>> this.shift) & (PARTITIONS - 1);
    const length = HEADER_BYTES + (kind === RECORD ? 8 : 0) + fields.length * 8 + key.length;
    if (this.used[partition]! + length > WRITE_BUFFER_BYTES) this.flush(partition);
    let buffer = this.buffers[partition]!;
    let view = this.views[partition]!;
    // A record larger than the buffer goes out through a buffer of its own.
    if (length > WRITE_BUFFER_BYTES) {
      buffer = Buffer.allocUnsafe(length);
      view = viewOf(buffer);
    }
    let at = buffer === this.buffers[partition] ? this.used[partition]! : 0;
    buffer[at] = kind;
    view.setUint32(at + 1, key.length, true);
    at += HEADER_BYTES;
    if (kind === RECORD) {
      view.setFloat64(at, ordinal, true);
      at += 8;
    }
    for (let field = 0; field < fields.length; field++, at += 8) view.setFloat64(at, fields[field]!, true);
    buffer.set(key, at);
    at += key.length;
    if (buffer === this.buffers[partition]) this.used[partition] = at;
    else this.writeAll(partition, buffer);
  }

  /** Flushes and closes the files; returns their paths. */
  close(): string[] {
    if (this.closed) return this.paths;
    this.closed = true;
    try {
      for (let partition = 0; partition < this.fds.length; partition++) this.flush(partition);
    } finally {
      for (const fd of this.fds) closeSync(fd);
    }
    return this.paths;
  }

  /** Closes the files without writing what is buffered (they are about to be removed). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds) closeSync(fd);
  }

  private flush(partition: number): void {
    this.writeAll(partition, this.buffers[partition]!.subarray(0, this.used[partition]!));
    this.used[partition] = 0;
  }

  private writeAll(partition: number, bytes: Buffer): void {
    this.guardIo(() => writeFullySync(this.fds[partition]!, bytes));
  }
}
