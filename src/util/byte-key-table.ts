/**
 * A map from byte-string keys to a few numbers each, for state that must be kept per key of a
 * whole keyspace (verify's MVCC checks, etcd's HashKV over a compacted history). A JS Map keyed
 * by strings costs about 450 bytes per key there (1M keys of a snapshot took verify to 565 MiB);
 * this keeps the key bytes in shared blocks and the numbers in typed-array columns, about 70
 * bytes plus the key's length. Lookups compare the key bytes, so it is exact.
 *
 * Entries are numbered in the order they were added; a deleted key's entry stays dead, and
 * adding the key again makes a new entry at the end (so live entries keep insertion order).
 */
const BLOCK_BYTES = 1024 * 1024;
const FIRST_CAPACITY = 1024;
const EMPTY = -1;
const SHORT_KEY_BYTES = 64;

export class ByteKeyTable {
  /** Key bytes: block number and offset of each entry's key. */
  private blocks: Buffer[] = [];
  /** Emptied key blocks that clear() kept for reuse. */
  private spareBlocks: Buffer[] = [];
  private blockBytes = 0;
  /** Bytes of the keys stored since the last clear(). */
  private keyBytes = 0;
  private blockUsed = BLOCK_BYTES;
  private keyBlock = new Uint32Array(FIRST_CAPACITY);
  private keyOffset = new Uint32Array(FIRST_CAPACITY);
  private keyLength = new Uint32Array(FIRST_CAPACITY);
  private keyHash = new Uint32Array(FIRST_CAPACITY);
  private dead = new Uint8Array(FIRST_CAPACITY);
  private columns: Float64Array[];
  private entries = 0;
  private liveEntries = 0;
  /** Open addressing with linear probing: entry numbers, EMPTY where free. */
  private slots = new Int32Array(FIRST_CAPACITY * 2).fill(EMPTY);

  constructor(readonly fields: number) {
    this.columns = Array.from({ length: fields }, () => new Float64Array(FIRST_CAPACITY));
  }

  /** Live keys. */
  get size(): number {
    return this.liveEntries;
  }

  /** The live entry of `key`, or -1. */
  find(key: Uint8Array): number {
    const slot = this.slotOf(key);
    return slot < 0 ? -1 : this.slots[slot]!;
  }

  /** A new live entry for `key`, its fields 0; the key must not be live. */
  add(key: Uint8Array): number {
    this.makeRoomForOne();
    const hash = hashBytes(key);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== EMPTY) slot = (slot + 1) & mask;
    return this.insert(slot, key, hash);
  }

  /** The live entry of `key`, added (fields 0) if there is none: one hash and one probe. */
  findOrAdd(key: Uint8Array): number {
    this.makeRoomForOne();
    const hash = hashBytes(key);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let entry = this.slots[slot]!; entry !== EMPTY; slot = (slot + 1) & mask, entry = this.slots[slot]!) {
      if (this.keyHash[entry] === hash && this.keyEquals(entry, key)) return entry;
    }
    return this.insert(slot, key, hash);
  }

  private makeRoomForOne(): void {
    if ((this.liveEntries + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    if (this.entries === this.keyHash.length) this.growEntries();
  }

  private insert(slot: number, key: Uint8Array, hash: number): number {
    const entry = this.entries++;
    this.liveEntries++;
    this.storeKey(entry, key, hash);
    this.slots[slot] = entry;
    return entry;
  }

  /** Kills the live entry of `key`, if there is one; returns whether there was. */
  delete(key: Uint8Array): boolean {
    let hole = this.slotOf(key);
    if (hole < 0) return false;
    this.dead[this.slots[hole]!] = 1;
    this.liveEntries--;
    const mask = this.slots.length - 1;
    // Backward-shift deletion: move later members of the probe run into the hole, so lookups
    // never need tombstones.
    for (let slot = (hole + 1) & mask; this.slots[slot] !== EMPTY; slot = (slot + 1) & mask) {
      const moved = this.slots[slot]!;
      const home = this.keyHash[moved]! & mask;
      if (((slot - home) & mask) >= ((slot - hole) & mask)) {
        this.slots[hole] = moved;
        hole = slot;
      }
    }
    this.slots[hole] = EMPTY;
    return true;
  }

  get(entry: number, field: number): number {
    return this.columns[field]![entry]!;
  }

  set(entry: number, field: number, value: number): void {
    this.columns[field]![entry] = value;
  }

  /**
   * Removes every entry but keeps the memory (columns, slots, key blocks) for the entries to come,
   * so that a table filled and emptied over and over leaves no garbage behind.
   */
  clear(): void {
    this.dead.fill(0, 0, this.entries);
    for (const column of this.columns) column.fill(0, 0, this.entries);
    this.entries = 0;
    this.liveEntries = 0;
    this.keyBytes = 0;
    this.slots.fill(EMPTY);
    for (const block of this.blocks) {
      if (block.length === BLOCK_BYTES) this.spareBlocks.push(block);
      else this.blockBytes -= block.length;
    }
    this.blocks = [];
    this.blockUsed = BLOCK_BYTES;
  }

  /** The key of `entry`: a view into the table's memory, valid until the table is dropped. */
  keyOf(entry: number): Buffer {
    const offset = this.keyOffset[entry]!;
    return this.blocks[this.keyBlock[entry]!]!.subarray(offset, offset + this.keyLength[entry]!);
  }

  /** The memory the table holds: key blocks, columns and slots. */
  get byteSize(): number {
    return this.blockBytes + this.keyHash.length * this.entryBytes() + this.slots.length * 4;
  }

  /** The memory its entries need, spare capacity aside (slots at the most loaded they get). */
  get bytesInUse(): number {
    return this.keyBytes + this.entries * (this.entryBytes() + 2 * 4);
  }

  private entryBytes(): number {
    return 4 * 4 + 1 + 8 * this.columns.length;
  }

  /** Calls `visit` with every live entry, in the order they were added. */
  forEachLive(visit: (entry: number) => void): void {
    for (let entry = 0; entry < this.entries; entry++) if (this.dead[entry] === 0) visit(entry);
  }

  /** The slot holding `key`'s live entry, or -1. */
  private slotOf(key: Uint8Array): number {
    const hash = hashBytes(key);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === EMPTY) return -1;
      if (this.keyHash[entry] === hash && this.keyEquals(entry, key)) return slot;
    }
  }

  private keyEquals(entry: number, key: Uint8Array): boolean {
    const length = this.keyLength[entry]!;
    if (length !== key.length) return false;
    const offset = this.keyOffset[entry]!;
    const block = this.blocks[this.keyBlock[entry]!]!;
    // Keys are mostly short: a loop beats the native compare's call.
    if (length > SHORT_KEY_BYTES) return block.compare(key, 0, length, offset, offset + length) === 0;
    for (let i = 0; i < length; i++) if (block[offset + i] !== key[i]) return false;
    return true;
  }

  private storeKey(entry: number, key: Uint8Array, hash: number): void {
    if (key.length > BLOCK_BYTES - this.blockUsed) {
      if (key.length > BLOCK_BYTES) {
        // A key larger than a block gets a block of its own, which is full at once.
        this.blocks.push(Buffer.from(key));
        this.blockBytes += key.length;
        this.blockUsed = BLOCK_BYTES;
        this.placeKey(entry, key, hash, this.blocks.length - 1, 0);
        return;
      }
      const spare = this.spareBlocks.pop();
      this.blocks.push(spare ?? Buffer.allocUnsafe(BLOCK_BYTES));
      if (spare === undefined) this.blockBytes += BLOCK_BYTES;
      this.blockUsed = 0;
    }
    const block = this.blocks.length - 1;
    this.blocks[block]!.set(key, this.blockUsed);
    this.placeKey(entry, key, hash, block, this.blockUsed);
    this.blockUsed += key.length;
  }

  private placeKey(entry: number, key: Uint8Array, hash: number, block: number, offset: number): void {
    this.keyBytes += key.length;
    this.keyBlock[entry] = block;
    this.keyOffset[entry] = offset;
    this.keyLength[entry] = key.length;
    this.keyHash[entry] = hash;
  }

  private growEntries(): void {
    const capacity = this.keyHash.length * 2;
    const grow = <T extends Uint32Array | Uint8Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.keyBlock = grow(this.keyBlock, (n) => new Uint32Array(n));
    this.keyOffset = grow(this.keyOffset, (n) => new Uint32Array(n));
    this.keyLength = grow(this.keyLength, (n) => new Uint32Array(n));
    this.keyHash = grow(this.keyHash, (n) => new Uint32Array(n));
    this.dead = grow(this.dead, (n) => new Uint8Array(n));
    this.columns = this.columns.map((column) => grow(column, (n) => new Float64Array(n)));
  }

  private rehash(slotCount: number): void {
    this.slots = new Int32Array(slotCount).fill(EMPTY);
    const mask = slotCount - 1;
    this.forEachLive((entry) => {
      let slot = this.keyHash[entry]! & mask;
      while (this.slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.slots[slot] = entry;
    });
  }
}

/** FNV-1a, 32 bits: keys are short, and this runs once per record. */
export function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}
