import { createHash } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import {
  archiveRecordHeadLength,
  encodeArchiveAuth,
  encodeArchiveLease,
  type ArchiveAuth,
  type ArchiveLease,
  writeArchiveRecordHead,
} from '../api/archivepb.js';
import { encodeKeyValue, type StoredKeyValue } from '../api/mvccpb.js';
import { uvarintLength, writeUvarint } from '../api/protowire.js';
import { StrataError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { ChunkPool } from './chunk-pool.js';
import { loadZstdCodec, resolveLevel, type CodecName } from './codecs.js';
import {
  AUTH_ENTRY,
  chunkEntryName,
  DEFAULT_CHUNK_BYTES,
  MANIFEST_ENTRY,
  MAX_ENTRY_BYTES,
  TRAILER_ENTRY,
  type ChunkKind,
} from './format.js';
import { serializeJsonEntry } from './json-fields.js';
import { buildManifest, type ArchiveManifest, type ManifestInput } from './manifest.js';
import { ContentTally } from './tally.js';
import { TAR_END, tarHeader, tarPadding } from './tar.js';
import type { ArchiveTrailer } from './trailer.js';

/** One stored MVCC revision handed to the writer. */
export interface ArchiveRecord {
  main: number;
  sub: number;
  tombstone: boolean;
  kv: StoredKeyValue;
  /** The stored bytes of `kv` when the source has them (they are written verbatim). */
  kvBytes?: Buffer;
}

export interface ArchiveWriterOptions {
  manifest: ManifestInput;
  /** zstd level, 1..19 (default 1); lowered with a warning where the codec cannot reach it. */
  level?: number;
  codec?: CodecName;
  /** Size at which chunk entries are closed (default DEFAULT_CHUNK_BYTES, 1 MiB). */
  chunkBytes?: number;
  logger?: Logger;
}

export interface ArchiveWriteSummary {
  manifest: ArchiveManifest;
  trailer: ArchiveTrailer;
  /** SHA-256 (hex) of the whole compressed archive: the sidecar's content. */
  sha256: string;
  /** Size of the compressed archive. */
  bytes: number;
}

type Phase = 'records' | 'leases' | 'auth' | 'closed';
/** Beyond chunkBytes, for the message that closes a chunk (etcd values are mostly well below this). */
const CHUNK_HEADROOM = 64 * 1024;
const phaseOrder: Phase[] = ['records', 'leases', 'auth', 'closed'];
/** What a write returns while its chunk stays open: there is nothing to wait for. */
const CHUNK_OPEN: Promise<void> = Promise.resolve();

/** Hashes and counts the compressed bytes on their way out. */
class DigestPassThrough extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly onDone: (sha256: string, bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    this.onDone(this.hash.digest('hex'), this.bytes);
    callback();
  }
}

/**
 * Streams an archive: manifest first, then records, leases and auth in that order, then the
 * trailer. Holds at most one chunk entry (about `chunkBytes`) plus the compressor's window.
 * Each write resolves when its bytes are accepted downstream, so awaiting it is the
 * backpressure; the caller must await each write before the next one and read `output`.
 */
export class ArchiveWriter {
  readonly output: Readable;
  readonly manifest: ArchiveManifest;
  readonly codec: CodecName;
  readonly level: number;
  private readonly compressor: Transform;
  private readonly chunkBytes: number;
  private readonly mtime: number;
  private readonly tally: ContentTally;
  private readonly entries: Record<string, string> = {};
  private readonly chunkIndex: Record<ChunkKind, number> = { records: 0, leases: 0 };
  private readonly pool: ChunkPool;
  /** The open chunk entry, from `pool`: `chunkUsed` bytes of `chunk` are filled. */
  private chunk: Buffer | undefined;
  private chunkUsed = 0;
  private phase: Phase = 'records';
  private queue: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private finishing = false;
  private readonly digest: Promise<{ sha256: string; bytes: number }>;

  constructor(options: ArchiveWriterOptions) {
    const logger = options.logger ?? silentLogger;
    const codec = loadZstdCodec(options.codec);
    this.codec = codec.name;
    this.level = resolveLevel(codec, options.level, logger);
    this.chunkBytes = Math.min(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, MAX_ENTRY_BYTES);
    this.pool = new ChunkPool(this.chunkBytes + CHUNK_HEADROOM);
    this.manifest = buildManifest(options.manifest, { codec: codec.name, level: this.level }, this.chunkBytes);
    this.mtime = Math.floor(Date.parse(this.manifest.createdAt) / 1000);
    this.tally = new ContentTally(this.manifest, { etcdHash: true, purpose: "compute the snapshot's etcd HashKV" });
    this.compressor = codec.compressor(this.level);
    let resolveDigest: (value: { sha256: string; bytes: number }) => void = () => undefined;
    this.digest = new Promise((resolve) => {
      resolveDigest = resolve;
    });
    const out = new DigestPassThrough((sha256, bytes) => resolveDigest({ sha256, bytes }));
    this.output = out;
    pipeline(this.compressor, out, (err) => {
      if (err) this.failure ??= err;
    });
    this.enqueue(() => this.writeEntry(MANIFEST_ENTRY, [Buffer.from(serializeJsonEntry(this.manifest))]));
  }

  writeRecord(record: ArchiveRecord): Promise<void> {
    this.enterPhase('records', 'a record');
    const { main, sub, tombstone } = record;
    const kvBytes = record.kvBytes ?? encodeKeyValue(record.kv);
    const headLength = archiveRecordHeadLength(main, sub, tombstone, kvBytes.length);
    const length = headLength + kvBytes.length;
    if (length > MAX_ENTRY_BYTES) {
      throw new StrataError(
        'STRATA_ARCHIVE_RECORD_TOO_LARGE',
        `Cannot archive revision ${record.main}_${record.sub}: its value is ${length} bytes, above the archive's ${MAX_ENTRY_BYTES}-byte record limit`,
      );
    }
    this.tallied(() => this.tally.addRecord(main, sub, tombstone, record.kv, kvBytes));
    // Written in place: a head and a length prefix allocated per record showed in save profiles.
    const chunk = this.reserve(uvarintLength(length) + length);
    const at = writeArchiveRecordHead(chunk, writeUvarint(chunk, this.chunkUsed, length), main, sub, tombstone, kvBytes.length);
    chunk.set(kvBytes, at);
    this.chunkUsed = at + kvBytes.length;
    return this.closeFullChunk('records');
  }

  /** Writes records in order: the same as awaiting writeRecord for each, but waits only when a chunk closes. */
  async writeRecords(records: Iterable<ArchiveRecord>): Promise<void> {
    for (const record of records) {
      const written = this.writeRecord(record);
      if (written !== CHUNK_OPEN) await written;
    }
  }

  writeLease(lease: ArchiveLease): Promise<void> {
    this.enterPhase('leases', 'a lease');
    this.tally.addLease();
    return this.append('leases', encodeArchiveLease(lease));
  }

  writeAuth(auth: ArchiveAuth): Promise<void> {
    this.enterPhase('auth', 'the auth data');
    this.phase = 'closed';
    return this.enqueue(() => this.writeEntry(AUTH_ENTRY, [encodeArchiveAuth(auth)]));
  }

  /**
   * How far the records have come, 0..1: the last record's revision over the snapshot's (records
   * arrive in revision order, so this tracks a source read of any kind without knowing its size).
   */
  get progress(): number {
    return this.manifest.revision > 0 ? Math.min(this.tally.lastRevision / this.manifest.revision, 1) : 0;
  }

  /** Writes the trailer and ends the stream; resolves once `output` has produced every byte. */
  async finish(): Promise<ArchiveWriteSummary> {
    if (this.finishing) throw new StrataError('STRATA_ARCHIVE_ORDER', 'Archive writer: finish() was called twice');
    this.enterPhase('closed', 'the trailer');
    this.finishing = true;
    const trailer: ArchiveTrailer = {
      recordCount: this.tally.recordCount,
      keyCount: this.tally.keyCount,
      leaseCount: this.tally.leaseCount,
      hashKV: this.tally.hashKV(),
      entries: this.entries,
    };
    await this.enqueue(async () => {
      const trailerBytes = Buffer.from(serializeJsonEntry(trailer));
      await this.write(tarHeader(TRAILER_ENTRY, trailerBytes.length, this.mtime));
      await this.write(trailerBytes);
      await this.write(tarPadding(trailerBytes.length));
      await this.write(TAR_END);
      this.compressor.end();
    });
    const { sha256, bytes } = await Promise.race([this.digest, this.failed()]);
    return { manifest: this.manifest, trailer: { ...trailer, entries: { ...this.entries } }, sha256, bytes };
  }

  /** Stops writing: `output` errors with `reason` and pending writes reject. */
  abort(reason: Error): void {
    this.failure ??= reason;
    this.phase = 'closed';
    this.tally.close();
    this.compressor.destroy(reason);
  }

  private enterPhase(phase: Phase, what: string): void {
    if (this.failure !== undefined) throw this.failure;
    if (phaseOrder.indexOf(phase) < phaseOrder.indexOf(this.phase)) {
      throw new StrataError('STRATA_ARCHIVE_ORDER', `Archive writer got ${what} after the ${this.phase} part: write records, then leases, then auth, then finish`);
    }
    if (phase !== this.phase) {
      this.flushChunk();
      this.phase = phase;
    }
  }

  private tallied(add: () => void): void {
    try {
      add();
    } catch (err) {
      throw new StrataError('STRATA_ARCHIVE_INPUT', `Cannot archive: ${(err as Error).message}`);
    }
  }

  /** Adds one length-delimited message to the open chunk. */
  private append(kind: ChunkKind, message: Uint8Array): Promise<void> {
    const chunk = this.reserve(uvarintLength(message.length) + message.length);
    const at = writeUvarint(chunk, this.chunkUsed, message.length);
    chunk.set(message, at);
    this.chunkUsed = at + message.length;
    return this.closeFullChunk(kind);
  }

  private closeFullChunk(kind: ChunkKind): Promise<void> {
    // Resolving at once lets the source fill the next chunk while the last one compresses.
    if (this.chunkUsed < this.chunkBytes) return CHUNK_OPEN;
    return this.flushChunk(kind);
  }

  /**
   * Room for `bytes` more in the open chunk. The chunk closes once it reaches chunkBytes, so its
   * last message runs over: a little headroom saves regrowing (copying) nearly every chunk.
   */
  private reserve(bytes: number): Buffer {
    const needed = this.chunkUsed + bytes;
    const open = this.chunk;
    if (open !== undefined && needed <= open.length) return open;
    const grown = this.pool.take(needed);
    if (open !== undefined) {
      open.copy(grown, 0, 0, this.chunkUsed);
      this.pool.give(open);
    }
    this.chunk = grown;
    return grown;
  }

  /** Queues the open chunk as an entry of the current phase's kind. */
  private flushChunk(kind: ChunkKind | undefined = this.phase === 'leases' ? 'leases' : 'records'): Promise<void> {
    const chunk = this.chunk;
    if (chunk === undefined || this.chunkUsed === 0) return this.queue;
    const body = chunk.subarray(0, this.chunkUsed);
    this.chunk = undefined;
    this.chunkUsed = 0;
    const name = chunkEntryName(kind, this.chunkIndex[kind]++);
    return this.enqueue(() => this.writeEntry(name, [body], () => this.pool.give(chunk)));
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work);
    // A failed write is reported by the next call; keep the rejection from going unhandled.
    this.queue.catch((err: unknown) => {
      this.failure ??= err as Error;
    });
    return this.queue;
  }

  /** `release` runs once the compressor has taken in the body's bytes. */
  private async writeEntry(name: string, data: Buffer[], release?: () => void): Promise<void> {
    const body = data.length === 1 ? data[0]! : Buffer.concat(data);
    this.entries[name] = createHash('sha256').update(body).digest('hex');
    await this.write(tarHeader(name, body.length, this.mtime));
    await this.write(body, release);
    await this.write(tarPadding(body.length));
  }

  /** `consumed` runs once the compressor has taken the bytes in (not when it fails). */
  private write(buf: Buffer, consumed?: () => void): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (buf.length === 0 || this.compressor.write(buf, (err) => (err ? undefined : consumed?.()))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        this.compressor.off('drain', onDrain);
        this.compressor.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(this.failure ?? new Error('archive output closed before the archive was complete'));
      this.compressor.on('drain', onDrain);
      this.compressor.on('close', onClose);
    });
  }

  private failed(): Promise<never> {
    return new Promise((_resolve, reject) => {
      if (this.failure !== undefined) reject(this.failure);
      this.output.once('error', reject);
      this.output.once('close', () => reject(this.failure ?? new Error('archive output closed before the archive was complete')));
    });
  }
}
