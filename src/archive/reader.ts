import { createHash } from 'node:crypto';
import { pipeline, Readable, type Transform } from 'node:stream';
import {
  decodeArchiveAuth,
  decodeArchiveLease,
  decodeArchiveRecord,
  type ArchiveAuth,
  type ArchiveLease,
} from '../api/archivepb.js';
import { decodeKeyValue, type StoredKeyValue } from '../api/mvccpb.js';
import { ProtoReader } from '../api/protowire.js';
import { IntegrityError, StrataError } from '../util/errors.js';
import { ByteReader } from './byte-reader.js';
import { loadZstdCodec, type CodecName } from './codecs.js';
import {
  archiveIntegrityError,
  AUTH_ENTRY,
  MANIFEST_ENTRY,
  MAX_ENTRY_BYTES,
  MAX_JSON_ENTRY_BYTES,
  parseChunkEntryName,
  TRAILER_ENTRY,
  type ChunkKind,
} from './format.js';
import { parseJsonObject, serializeJsonEntry } from './json-fields.js';
import { checkFormat, parseManifest, type ArchiveManifest } from './manifest.js';
import { MvccChecker, MvccViolation } from './mvcc-checker.js';
import { ContentTally } from './tally.js';
import { parseTarHeader, TAR_BLOCK, tarPadding } from './tar.js';
import { parseTrailer, type ArchiveTrailer } from './trailer.js';
import { ZstdFrameWalker } from './zstd-frames.js';

async function* toAsync(items: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* items;
}

/**
 * The trailer is the one entry no SHA-256 covers, so its bytes must be exactly the canonical
 * serialization of what they parse to: no flipped byte can hide in its whitespace.
 */
function parseTrailerEntry(data: Buffer): ArchiveTrailer {
  const obj = parseJsonObject(data, 'trailer.json');
  if (!data.equals(Buffer.from(serializeJsonEntry(obj)))) throw new Error('trailer.json is not in canonical form');
  return parseTrailer(obj);
}

/** etcd's HashKV as the trailer gives it: its own field, or the history hash where no compaction can make them differ. */
function etcdHashOf(trailer: ArchiveTrailer): number | null {
  const hashKV = trailer.hashKV;
  if (hashKV === null) return null;
  return hashKV.etcdHash ?? (hashKV.compactRevision === 0 ? hashKV.hash : null);
}

/** A record as read back: the decoded key-value and its exact stored bytes. */
export interface ReadRecord {
  main: number;
  sub: number;
  tombstone: boolean;
  kv: StoredKeyValue;
  kvBytes: Buffer;
}

export interface ArchiveReaderOptions {
  /** How errors name the archive: its path or URL. */
  label?: string;
  codec?: CodecName;
  /** The whole-file SHA-256 from the sidecar; checked at the end when given. */
  expectedSha256?: string;
  /** Also check the MVCC invariants (per-key state, in temporary files past a bound). */
  checkMvcc?: boolean;
  /** Memory for the MVCC checks' per-key state before it goes to temporary files (tests). */
  mvccMemoryBytes?: number;
  /**
   * Recompute etcd's HashKV at the snapshot revision (per-key state for a compacted history),
   * compare it with the trailer's where the archive has one (format 1.1), and report it; a
   * function decides from the manifest.
   */
  computeEtcdHash?: boolean | ((manifest: ArchiveManifest) => boolean);
}

export interface ArchiveVerification {
  manifest: ArchiveManifest;
  trailer: ArchiveTrailer;
  auth: ArchiveAuth | undefined;
  /** SHA-256 (hex) and size of the compressed archive as read. */
  sha256: string;
  bytes: number;
  /** Whether records were decoded and counts and hashKV recomputed (finish(), not skipToTrailer()). */
  contentChecked: boolean;
  /** Whether the MVCC invariants were checked. */
  mvccChecked: boolean;
  /**
   * etcd's HashKV at the snapshot revision: recomputed when asked, else the trailer's, else
   * (a format 1.0 archive of a compacted history read without computeEtcdHash) null.
   */
  etcdHashKV: number | null;
}

interface Entry {
  name: string;
  data: Buffer;
}

type Section = ChunkKind | 'rest';

type Input = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Reads an archive as a stream, in order: `open` returns once the manifest is read (status
 * can stop there with `close`); then `records()`, `leases()` and `finish()`. Everything is
 * verified on the way, but an entry's SHA-256 can only be compared when the trailer arrives:
 * nothing read is trustworthy until `finish()` resolves. Skipping a section drains it (still
 * checked). Any failure is an IntegrityError naming what failed.
 */
export class ArchiveReader {
  private readonly label: string;
  private readonly bytes: ByteReader;
  private readonly decoded: Transform;
  private readonly rawHash = createHash('sha256');
  private rawBytes = 0;
  private inputFailure: unknown;
  private readonly seen = new Map<string, string>();
  private readonly expected: Record<Section, number> = { records: 0, leases: 0, rest: 0 };
  private section: Section = 'records';
  private pending: Entry | undefined;
  private tally!: ContentTally;
  private checker: MvccChecker | undefined;
  private auth: ArchiveAuth | undefined;
  private consumed = false;
  manifest!: ArchiveManifest;

  private constructor(input: Input, private readonly options: ArchiveReaderOptions) {
    this.label = options.label ?? 'archive';
    const codec = loadZstdCodec(options.codec);
    this.decoded = codec.decompressor();
    pipeline(Readable.from(this.tapRaw(input), { objectMode: false }), this.decoded, () => undefined);
    this.bytes = new ByteReader(this.decoded[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  }

  static async open(input: Input, options: ArchiveReaderOptions = {}): Promise<ArchiveReader> {
    const reader = new ArchiveReader(input, options);
    try {
      await reader.readManifest();
    } catch (err) {
      reader.close();
      throw err;
    }
    return reader;
  }

  /** Stops reading and releases the input. */
  close(): void {
    this.decoded.destroy();
    this.checker?.close();
    // Undefined when the manifest could not be read.
    (this.tally as ContentTally | undefined)?.close();
  }

  /** The records in order, one chunk entry's worth at a time (about `manifest.chunkBytes`). */
  recordBatches(): AsyncGenerator<ReadRecord[]> {
    return this.batches('records', (bytes, name) => this.decodeRecord(bytes, name));
  }

  async *records(): AsyncGenerator<ReadRecord> {
    for await (const batch of this.recordBatches()) yield* batch;
  }

  /** The leases, a chunk at a time; drains whatever records were not read. */
  async *leaseBatches(): AsyncGenerator<ArchiveLease[]> {
    await this.drain(this.recordBatches());
    yield* this.batches('leases', (bytes, name) => {
      const lease = decodeArchiveLease(bytes, `entry ${name}`);
      this.tally.addLease();
      return lease;
    });
  }

  async *leases(): AsyncGenerator<ArchiveLease> {
    for await (const batch of this.leaseBatches()) yield* batch;
  }

  /** Reads the rest, compares everything with the trailer and returns the verified summary. */
  async finish(): Promise<ArchiveVerification> {
    return this.conclude(async () => {
      await this.drain(this.leaseBatches());
      const trailer = await this.readRest();
      this.compareEntries(trailer);
      this.compareContent(trailer);
      return trailer;
    }, true);
  }

  /**
   * For `status`: reads on to the trailer without decoding records or leases and returns it.
   * Checks the byte layers and every entry's SHA-256, not the content (that is finish()'s job).
   */
  async skipToTrailer(): Promise<ArchiveVerification> {
    return this.conclude(async () => {
      for (;;) {
        const entry = await this.nextEntry();
        if (entry === undefined) throw this.fail('archive is truncated (trailer missing)');
        if (entry.name === TRAILER_ENTRY) {
          const trailer = this.guard(TRAILER_ENTRY, () => parseTrailerEntry(entry.data));
          this.compareEntries(trailer);
          return trailer;
        }
        if (entry.name === AUTH_ENTRY) this.auth = this.guard(AUTH_ENTRY, () => decodeArchiveAuth(entry.data, `entry ${AUTH_ENTRY}`));
      }
    }, false);
  }

  /** Reads up to the trailer with `untilTrailer`, then checks the end and the whole-file digest. */
  private async conclude(untilTrailer: () => Promise<ArchiveTrailer>, contentChecked: boolean): Promise<ArchiveVerification> {
    if (this.consumed) throw new Error('ArchiveReader: finish() or skipToTrailer() was already called');
    this.consumed = true;
    try {
      const trailer = await untilTrailer();
      await this.expectEnd();
      const sha256 = this.rawHash.digest('hex');
      const expected = this.options.expectedSha256?.toLowerCase();
      if (expected !== undefined && expected !== sha256) {
        throw this.fail(`whole-file SHA-256 ${sha256} does not match the sidecar's ${expected}`);
      }
      return {
        manifest: this.manifest,
        trailer,
        auth: this.auth,
        sha256,
        bytes: this.rawBytes,
        contentChecked,
        mvccChecked: contentChecked && this.checker !== undefined,
        etcdHashKV: (contentChecked ? this.tally.hashKV()?.etcdHash : undefined) ?? etcdHashOf(trailer),
      };
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private fail(detail: string, cause?: unknown): IntegrityError {
    return archiveIntegrityError(this.label, detail, cause);
  }

  /** Runs a decoding step, turning whatever it throws into this archive's integrity error. */
  private guard<T>(name: string, work: () => T): T {
    try {
      return work();
    } catch (err) {
      if (err instanceof IntegrityError) throw err;
      if (err instanceof MvccViolation) throw this.fail(`entry ${name}: MVCC invariant broken at ${err.message}`);
      const message = (err as Error).message;
      throw this.fail(message.startsWith('entry ') ? message : `entry ${name}: ${message}`);
    }
  }

  private async *tapRaw(input: Input): AsyncGenerator<Buffer> {
    const walker = new ZstdFrameWalker();
    const walk = (step: () => void): void => {
      try {
        step();
      } catch (err) {
        throw this.fail((err as Error).message);
      }
    };
    const source = (input as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]?.() ?? toAsync(input as Iterable<Uint8Array>);
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array | string>;
        try {
          next = await source.next();
        } catch (err) {
          // A failing store (missing file, network) is not an integrity failure: pass it on as it is.
          this.inputFailure = err;
          throw err;
        }
        if (next.done === true) break;
        const piece = next.value;
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
        this.rawHash.update(chunk);
        this.rawBytes += chunk.length;
        walk(() => walker.update(chunk));
        yield chunk;
      }
      walk(() => walker.end());
    } finally {
      // Releases the input (a file stream closes) when reading stops early or fails.
      await source.return?.();
    }
  }

  /** The next tar entry, buffered whole (entries are bounded), or undefined at the tar's end. */
  private async nextEntry(): Promise<Entry | undefined> {
    if (this.pending !== undefined) {
      const entry = this.pending;
      this.pending = undefined;
      return entry;
    }
    const block = await this.readExactly(TAR_BLOCK, 'an entry header');
    let header: ReturnType<typeof parseTarHeader>;
    try {
      header = parseTarHeader(block);
    } catch (err) {
      const last = [...this.seen.keys()].pop();
      const reason = (err as Error).message;
      throw this.fail(last === undefined ? `manifest is missing (the first tar header is unreadable: ${reason})` : `tar stream is corrupt (${reason}, after entry ${last})`);
    }
    if (header === 'end') {
      const second = await this.readExactly(TAR_BLOCK, 'the end of the tar stream');
      if (!second.every((b) => b === 0)) throw this.fail('tar stream is corrupt (a zero block is followed by data)');
      return undefined;
    }
    const isJson = header.name.endsWith('.json');
    const limit = isJson ? MAX_JSON_ENTRY_BYTES : MAX_ENTRY_BYTES;
    if (header.size > limit) throw this.fail(`entry ${header.name} is ${header.size} bytes, above the ${limit}-byte limit`);
    const data = await this.readExactly(header.size, `entry ${header.name}`);
    const padding = await this.readExactly(tarPadding(header.size).length, `entry ${header.name}`);
    if (!padding.every((b) => b === 0)) throw this.fail(`entry ${header.name}: tar padding is not zero`);
    if (this.seen.has(header.name)) throw this.fail(`entry ${header.name} appears twice`);
    if (header.name !== TRAILER_ENTRY) this.seen.set(header.name, createHash('sha256').update(data).digest('hex'));
    return { name: header.name, data };
  }

  private async readExactly(n: number, what: string): Promise<Buffer> {
    let buf: Buffer;
    try {
      buf = await this.bytes.read(n);
    } catch (err) {
      throw this.decodeFailure(err);
    }
    if (buf.length < n) throw this.fail(`archive is truncated (inside ${what}; trailer missing)`);
    return buf;
  }

  /** What a failed read of decompressed bytes means: the input's own error, ours, or the decoder's. */
  private decodeFailure(err: unknown): Error {
    if (err instanceof StrataError || (err !== undefined && err === this.inputFailure)) return err as Error;
    return this.fail(`zstd stream is corrupt (${(err as Error).message})`, err);
  }

  private async readManifest(): Promise<void> {
    const first = await this.nextEntry();
    if (first === undefined) throw this.fail('manifest is missing (the tar stream is empty)');
    if (first.name !== MANIFEST_ENTRY) throw this.fail(`manifest is missing (the first entry is ${first.name})`);
    this.manifest = this.guard(MANIFEST_ENTRY, () => {
      const obj = parseJsonObject(first.data, 'manifest.json');
      try {
        checkFormat(obj);
      } catch (err) {
        throw this.fail((err as Error).message);
      }
      return parseManifest(obj);
    });
    const etcdHash = this.options.computeEtcdHash;
    this.tally = new ContentTally(this.manifest, {
      etcdHash: typeof etcdHash === 'function' ? etcdHash(this.manifest) : etcdHash === true,
      purpose: `compute etcd's HashKV of '${this.label}'`,
    });
    if (this.options.checkMvcc === true) {
      this.checker = new MvccChecker(this.manifest, { purpose: `check the MVCC invariants of '${this.label}'`, memoryBytes: this.options.mvccMemoryBytes });
    }
  }

  /**
   * The messages of one chunk section, decoded (and so checked) a whole chunk at a time: a
   * caller that stops inside a batch loses nothing a later drain would have to check.
   */
  private async *batches<T>(kind: ChunkKind, decode: (bytes: Buffer, name: string) => T): AsyncGenerator<T[]> {
    for (;;) {
      const batch: T[] = [];
      try {
        const entry = await this.nextChunk(kind);
        if (entry === undefined) return;
        const reader = new ProtoReader(entry.data, `entry ${entry.name}`);
        this.guard(entry.name, () => {
          while (!reader.done) batch.push(decode(reader.bytes(), entry.name));
        });
      } catch (err) {
        this.close();
        throw err;
      }
      yield batch;
    }
  }

  /** The next chunk entry of `kind`, or undefined once the section is over. */
  private async nextChunk(kind: ChunkKind): Promise<Entry | undefined> {
    if (this.sectionRank(kind) < this.sectionRank(this.section)) return undefined;
    this.section = kind;
    for (;;) {
      const entry = await this.nextEntry();
      if (entry === undefined) throw this.fail(`archive is truncated (trailer missing after entry ${[...this.seen.keys()].pop()})`);
      const chunk = parseChunkEntryName(entry.name);
      if (chunk === undefined && this.isUnknownEntry(entry.name)) continue;
      if (chunk === undefined || chunk.kind !== kind) {
        this.pending = entry;
        return undefined;
      }
      if (chunk.index !== this.expected[kind]) {
        throw this.fail(`entry ${entry.name} is out of order (expected ${kind} chunk ${this.expected[kind]})`);
      }
      this.expected[kind]++;
      return entry;
    }
  }

  private sectionRank(section: Section): number {
    return section === 'records' ? 0 : section === 'leases' ? 1 : 2;
  }

  /** Entries this version does not know are kept only for the trailer's checksum comparison. */
  private isUnknownEntry(name: string): boolean {
    return name !== MANIFEST_ENTRY && name !== TRAILER_ENTRY && name !== AUTH_ENTRY && parseChunkEntryName(name) === undefined;
  }

  private decodeRecord(bytes: Buffer, name: string): ReadRecord {
    const raw = decodeArchiveRecord(bytes, `entry ${name}`);
    const kv = decodeKeyValue(raw.kvBytes, `entry ${name}: record ${raw.main}_${raw.sub} key-value`);
    this.tally.addRecord(raw.main, raw.sub, raw.tombstone, kv, raw.kvBytes);
    this.checker?.add(raw.main, raw.sub, raw.tombstone, kv);
    return { main: raw.main, sub: raw.sub, tombstone: raw.tombstone, kv, kvBytes: raw.kvBytes };
  }

  /** After the chunk sections: the optional auth entry, unknown entries, then the trailer. */
  private async readRest(): Promise<ArchiveTrailer> {
    this.section = 'rest';
    for (;;) {
      const entry = await this.nextEntry();
      if (entry === undefined) throw this.fail('archive is truncated (trailer missing)');
      if (entry.name === TRAILER_ENTRY) return this.guard(TRAILER_ENTRY, () => parseTrailerEntry(entry.data));
      if (entry.name === AUTH_ENTRY && this.auth === undefined) {
        this.auth = this.guard(AUTH_ENTRY, () => decodeArchiveAuth(entry.data, `entry ${AUTH_ENTRY}`));
      } else if (!this.isUnknownEntry(entry.name)) {
        throw this.fail(`entry ${entry.name} is out of order`);
      }
    }
  }

  private compareEntries(trailer: ArchiveTrailer): void {
    const listed = Object.keys(trailer.entries);
    for (const [name, digest] of this.seen) {
      const want = trailer.entries[name];
      if (want === undefined) throw this.fail(`entry ${name} is not listed in the trailer`);
      if (want !== digest) throw this.fail(`entry ${name}: SHA-256 mismatch`);
    }
    for (const name of listed) if (!this.seen.has(name)) throw this.fail(`entry ${name} listed in the trailer is missing`);
    if (listed.join('\n') !== [...this.seen.keys()].join('\n')) throw this.fail('entries are not in the order the trailer lists them');
  }

  private compareContent(trailer: ArchiveTrailer): void {
    const mismatch = (what: string, archived: unknown, computed: unknown): never => {
      throw this.fail(`trailer ${what} is ${JSON.stringify(archived)} but the records give ${JSON.stringify(computed)}`);
    };
    if (trailer.recordCount !== this.tally.recordCount) mismatch('recordCount', trailer.recordCount, this.tally.recordCount);
    if (trailer.keyCount !== this.tally.keyCount) mismatch('keyCount', trailer.keyCount, this.tally.keyCount);
    if (trailer.leaseCount !== this.tally.leaseCount) mismatch('leaseCount', trailer.leaseCount, this.tally.leaseCount);
    const hashKV = this.tally.hashKV();
    const { etcdHash: archivedEtcdHash, ...archived } = trailer.hashKV ?? {};
    const { etcdHash, ...computed } = hashKV ?? {};
    if ((trailer.hashKV === null) !== (hashKV === null) || JSON.stringify(archived) !== JSON.stringify(computed)) mismatch('hashKV', trailer.hashKV, hashKV);
    if (etcdHash !== undefined && archivedEtcdHash !== undefined && etcdHash !== archivedEtcdHash) mismatch('hashKV.etcdHash', archivedEtcdHash, etcdHash);
    if (this.checker !== undefined) {
      const live = this.finishMvccChecks(this.checker);
      if (live !== trailer.keyCount) throw this.fail(`trailer keyCount is ${trailer.keyCount} but ${live} keys exist at revision ${this.manifest.revision}`);
    }
  }

  /** The per-key checks that went to temporary files report here, not at their entry. */
  private finishMvccChecks(checker: MvccChecker): number {
    try {
      return checker.finish().liveKeys;
    } catch (err) {
      if (err instanceof MvccViolation) throw this.fail(`MVCC invariant broken at ${err.message}`);
      throw err;
    }
  }

  private async expectEnd(): Promise<void> {
    if (this.pending !== undefined || (await this.nextEntry()) !== undefined) throw this.fail('entries follow the trailer');
    let atEnd: boolean;
    try {
      atEnd = await this.bytes.atEnd();
    } catch (err) {
      throw this.decodeFailure(err);
    }
    if (!atEnd) throw this.fail('tar stream is corrupt (data after its end)');
  }

  private async drain(items: AsyncGenerator<unknown>): Promise<void> {
    for await (const _ of items) {
      // reading is what checks them
    }
  }
}
