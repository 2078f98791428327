import { closeSync, openSync, rmSync } from 'node:fs';
import { SpillFileReader } from './spill-file-reader.js';
import { SpillDirectory, writeFullySync, type SpillOptions } from './temp-files.js';

/** One sorted item: ordered by `order`, then by `key` bytewise; `payload` rides along. */
export interface SortedItem {
  order: number;
  key: Buffer;
  payload: Buffer;
}

/**
 * An item as the sorter holds it: `bytes` is the key then the payload (as in a run file), one
 * view instead of two: held items' objects took more memory than their bytes for small keys.
 */
interface HeldItem {
  order: number;
  bytes: Buffer;
  keyLength: number;
}

const MEMORY_BYTES = 16 * 2 ** 20;
/** What a held item costs in memory beyond its bytes (object, view, array slot), measured. */
const ITEM_OVERHEAD = 160;
/** Items are copied into slabs of this size, reused from run to run. */
const SLAB_BYTES = 1024 * 1024;
/** order (float64), key length, payload length. */
const HEAD_BYTES = 16;
const WRITE_BYTES = 1024 * 1024;
const READ_BYTES = 128 * 1024;
/** Runs merged at once: each holds a read buffer, so more runs are first merged into fewer. */
const MAX_FAN_IN = 64;

function compareItems(a: HeldItem, b: HeldItem): number {
  return a.order - b.order || a.bytes.compare(b.bytes, 0, b.keyLength, 0, a.keyLength);
}

/**
 * Sorts items of any number and size with bounded memory: they are held up to `memoryBytes`,
 * then sorted and written out as a run to a temporary file; sorted() merges the runs. Built for
 * a logical snapshot that must be read in key order (cheap for etcd) but archived in revision
 * order. Items with equal order and key come out in no particular order.
 */
export class SpillingSorter {
  private readonly memoryBytes: number;
  private items: HeldItem[] = [];
  private heldBytes = 0;
  /**
   * The bytes of the held items. A buffer per item, freed a run at a time, left the C heap
   * fragmented: RSS grew by 80 MiB over a 1 GiB Range save.
   */
  private readonly slabs: Buffer[] = [];
  private slab = 0;
  private slabUsed = 0;
  private readonly files: SpillDirectory;
  private runs: string[] = [];
  private runsWritten = 0;
  private reading = false;

  constructor(options: SpillOptions) {
    this.memoryBytes = options.memoryBytes ?? MEMORY_BYTES;
    this.files = new SpillDirectory(options, 'strata-sort-');
  }

  /** Adds an item; its bytes are copied. */
  add(order: number, key: Uint8Array, payload: Uint8Array): void {
    if (this.reading) throw new Error('SpillingSorter: add() after sorted()');
    const bytes = key.length + payload.length;
    const copy = this.hold(bytes);
    copy.set(key, 0);
    copy.set(payload, key.length);
    this.items.push({ order, bytes: copy, keyLength: key.length });
    this.heldBytes += bytes + ITEM_OVERHEAD;
    if (this.heldBytes >= this.memoryBytes) this.writeRun(this.takeSorted());
  }

  /** Every item added, in order; call once, after the last add(). An item's views are valid until the next one is asked for. */
  *sorted(): Generator<SortedItem> {
    for (const { order, bytes, keyLength } of this.sortedHeld()) yield { order, key: bytes.subarray(0, keyLength), payload: bytes.subarray(keyLength) };
  }

  private *sortedHeld(): Generator<HeldItem> {
    this.reading = true;
    if (this.runs.length === 0) {
      yield* this.takeSorted();
      return;
    }
    if (this.items.length > 0) this.writeRun(this.takeSorted());
    // The merge reads every item from the runs: the slabs can go before the read buffers come.
    this.slabs.length = 0;
    while (this.runs.length > MAX_FAN_IN) {
      // Merge only as many as it takes to leave MAX_FAN_IN: each merged item is written once more.
      const group = this.runs.splice(0, Math.min(MAX_FAN_IN, this.runs.length - MAX_FAN_IN + 1));
      this.writeRun(this.merge(group));
      for (const run of group) rmSync(run, { force: true });
    }
    yield* this.merge(this.runs);
  }

  /** Removes the temporary files; safe to call more than once. */
  close(): void {
    this.items = [];
    this.slabs.length = 0;
    this.runs = [];
    this.files.remove();
  }

  /** The held items, sorted; their bytes stay valid until the next add(). */
  private takeSorted(): HeldItem[] {
    const items = this.items.sort(compareItems);
    this.items = [];
    this.heldBytes = 0;
    this.slab = 0;
    this.slabUsed = 0;
    return items;
  }

  /** Room for `bytes` in the slabs (or a buffer of its own when larger than a slab). */
  private hold(bytes: number): Buffer {
    if (bytes > SLAB_BYTES) return Buffer.allocUnsafe(bytes);
    if (this.slabUsed + bytes > SLAB_BYTES) {
      this.slab++;
      this.slabUsed = 0;
    }
    const slab = (this.slabs[this.slab] ??= Buffer.allocUnsafeSlow(SLAB_BYTES));
    const room = slab.subarray(this.slabUsed, this.slabUsed + bytes);
    this.slabUsed += bytes;
    return room;
  }

  private writeRun(items: Iterable<HeldItem>): void {
    const path = this.files.file(`run-${this.runsWritten++}`);
    const fd = this.files.guard(() => openSync(path, 'wx', 0o600));
    try {
      const buffer = Buffer.allocUnsafe(WRITE_BYTES);
      let used = 0;
      const flush = (): void => {
        this.files.guard(() => writeFullySync(fd, buffer.subarray(0, used)));
        used = 0;
      };
      for (const { order, bytes, keyLength } of items) {
        if (used + HEAD_BYTES + bytes.length > buffer.length) flush();
        writeHead(buffer, used, order, keyLength, bytes.length - keyLength);
        used += HEAD_BYTES;
        if (HEAD_BYTES + bytes.length > buffer.length) {
          flush();
          this.files.guard(() => writeFullySync(fd, bytes));
          continue;
        }
        used += bytes.copy(buffer, used);
      }
      flush();
    } finally {
      closeSync(fd);
    }
    this.runs.push(path);
  }

  /** The items of sorted run files, merged through a binary heap of their heads. */
  private *merge(paths: string[]): Generator<HeldItem> {
    const readers = paths.map((path) => new RunReader(this.files.guard(() => openSync(path, 'r')), path, (work) => this.files.guard(work)));
    try {
      const heap: Array<{ item: HeldItem; reader: RunReader }> = [];
      const push = (entry: { item: HeldItem; reader: RunReader }): void => {
        heap.push(entry);
        for (let i = heap.length - 1; i > 0; ) {
          const parent = (i - 1) >> 1;
          if (compareItems(heap[parent]!.item, heap[i]!.item) <= 0) break;
          [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
          i = parent;
        }
      };
      const pop = (): { item: HeldItem; reader: RunReader } => {
        const top = heap[0]!;
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          for (let i = 0; ; ) {
            const l = 2 * i + 1;
            const r = l + 1;
            let least = i;
            if (l < heap.length && compareItems(heap[l]!.item, heap[least]!.item) < 0) least = l;
            if (r < heap.length && compareItems(heap[r]!.item, heap[least]!.item) < 0) least = r;
            if (least === i) break;
            [heap[least], heap[i]] = [heap[i]!, heap[least]!];
            i = least;
          }
        }
        return top;
      };
      for (const reader of readers) {
        const item = reader.next();
        if (item !== undefined) push({ item, reader });
      }
      while (heap.length > 0) {
        const { item, reader } = pop();
        // The reader's buffer is overwritten by its next read: hand out the item before that.
        yield item;
        const next = reader.next();
        if (next !== undefined) push({ item: next, reader });
      }
    } finally {
      for (const reader of readers) reader.close();
    }
  }
}

function writeHead(target: Buffer, at: number, order: number, keyLength: number, payloadLength: number): void {
  target.writeDoubleLE(order, at);
  target.writeUInt32LE(keyLength, at + 8);
  target.writeUInt32LE(payloadLength, at + 12);
}

/** Items of one run file, read in blocks; an item's bytes are a view valid until the next call. */
class RunReader {
  private readonly file: SpillFileReader;

  constructor(
    private readonly fd: number,
    path: string,
    guard: <T>(work: () => T) => T,
  ) {
    this.file = new SpillFileReader(fd, path, READ_BYTES, guard);
  }

  next(): HeldItem | undefined {
    const file = this.file;
    if (!file.fill(HEAD_BYTES)) return undefined;
    const order = file.view.getFloat64(file.start, true);
    const keyLength = file.view.getUint32(file.start + 8, true);
    const bytes = HEAD_BYTES + keyLength + file.view.getUint32(file.start + 12, true);
    file.fill(bytes); // Past a head the record is there whole, or fill() throws.
    const item = { order, bytes: file.buffer.subarray(file.start + HEAD_BYTES, file.start + bytes), keyLength };
    file.start += bytes;
    return item;
  }

  close(): void {
    closeSync(this.fd);
  }
}
