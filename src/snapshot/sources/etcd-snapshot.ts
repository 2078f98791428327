import { open, type FileHandle } from 'node:fs/promises';
import { decodeKeyValue, type StoredKeyValue } from '../../api/mvccpb.js';
import { compareRevisions, decodeRevisionKey, type Revision } from '../../api/revision.js';
import { Crc32c } from '../../util/crc32c.js';
import { IntegrityError, StrataError, UsageError, errorMessage } from '../../util/errors.js';
import { BboltDb, looksLikeBbolt, type BboltCheck, type BucketRef } from './bbolt/bbolt-db.js';
import { describeKey } from './bbolt/cursor.js';
import {
  decodeAlarm,
  decodeAuthBucket,
  decodeLease,
  decodeMember,
  decodeMetaBucket,
  decodeRemovedMember,
  type BucketEntry,
  type EtcdAlarm,
  type EtcdAuthState,
  type EtcdLease,
  type EtcdMember,
  type NamedValue,
  type Problem,
} from './etcd-buckets.js';
import { hashByRev, scanKeep } from './etcd-hashkv.js';
import { SHA256_TRAILER_BYTES, checkSha256Trailer, hasSha256Trailer } from './sha256-trailer.js';

export type { EtcdAlarm, EtcdAuthState, EtcdLease, EtcdMember, NamedValue } from './etcd-buckets.js';
export type { BboltCheck } from './bbolt/bbolt-db.js';

/** One stored MVCC revision of the image, in revision order. */
export interface EtcdRevision {
  main: number;
  sub: number;
  tombstone: boolean;
  /** The stored bytes: the marshalled mvccpb.KeyValue (for a tombstone, only the key is set). */
  value: Buffer;
  kv: StoredKeyValue;
}

/** What `etcdctl snapshot status -w json` reports about a file (bbolt-level, not MVCC). */
export interface EtcdFileStatus {
  /** CRC-32C over every bucket name, key and value in order. */
  hash: number;
  /** The main revision of the last key in the 'key' bucket. */
  revision: number;
  /** Keys in all buckets. */
  totalKey: number;
  /** Bytes of the bbolt database (pages in use times page size). */
  totalSize: number;
}

export interface EtcdHashKV {
  hash: number;
  revision: number;
  compactRevision: number;
}

/** The image's own buckets are read into memory at open; etcd keeps them small. */
interface SmallBuckets {
  meta: BucketEntry[];
  lease: BucketEntry[];
  members: BucketEntry[];
  members_removed: BucketEntry[];
  cluster: BucketEntry[];
  alarm: BucketEntry[];
  auth: BucketEntry[];
  authUsers: BucketEntry[];
  authRoles: BucketEntry[];
}

const SMALL_BUCKETS: readonly (keyof SmallBuckets)[] = [
  'meta',
  'lease',
  'members',
  'members_removed',
  'cluster',
  'alarm',
  'auth',
  'authUsers',
  'authRoles',
];

export interface OpenEtcdSnapshotOptions {
  /** Names the file in messages; defaults to the path. */
  name?: string;
  /** The SHA-256 of the file before its trailer, hashed while it was written (saves a read). */
  contentSha256?: { fileBytes: number; computed: string };
}

/**
 * An etcd v3 backend image: a file made by `etcdctl snapshot save` (bbolt + SHA-256 trailer,
 * which is verified at open), a Maintenance.Snapshot stream spooled to disk, or a member's
 * `member/snap/db` (no trailer: only the structural checks apply). Read through positional
 * reads; MVCC revisions stream from disk on each pass.
 */
export class EtcdSnapshot {
  /** The cluster ID is kept in the WAL, not in the backend: an image cannot tell it. */
  readonly clusterId: bigint | undefined = undefined;

  private constructor(
    readonly name: string,
    private readonly file: FileHandle,
    private readonly db: BboltDb,
    private readonly keyBucket: BucketRef,
    private readonly fail: Problem,
    /** Bytes of the file, trailer included. */
    readonly fileBytes: number,
    /** The verified SHA-256 trailer in hex, or undefined when the file has none. */
    readonly sha256: string | undefined,
    /** The highest revision of the image: its last key revision, or the compact revision if that is later. */
    readonly revision: number,
    /** The revision the store was compacted at (scheduled; see finishedCompactRevision); 0 when never. */
    readonly compactRevision: number,
    readonly scheduledCompactRevision: number | undefined,
    readonly finishedCompactRevision: number | undefined,
    readonly consistentIndex: bigint | undefined,
    readonly term: bigint | undefined,
    readonly leases: EtcdLease[],
    readonly members: EtcdMember[],
    readonly removedMemberIds: bigint[],
    readonly clusterVersion: string | undefined,
    readonly auth: EtcdAuthState & { users: NamedValue[]; roles: NamedValue[] },
    readonly alarms: EtcdAlarm[],
    /** Names of every top-level bucket, in bbolt order. */
    readonly bucketNames: string[],
  ) {}

  static async open(path: string, options: OpenEtcdSnapshotOptions = {}): Promise<EtcdSnapshot> {
    const name = options.name ?? path;
    const fail: Problem = (problem) => {
      throw new IntegrityError(`Cannot read etcd snapshot '${name}': ${problem}`);
    };
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (err) {
      throw new StrataError('STRATA_SOURCE_UNREADABLE', `Cannot open etcd snapshot '${name}': ${errorMessage(err)}`, { cause: err });
    }
    try {
      return await EtcdSnapshot.read(file, name, fail, options.contentSha256);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  private static async read(file: FileHandle, name: string, fail: Problem, contentSha256: OpenEtcdSnapshotOptions['contentSha256']): Promise<EtcdSnapshot> {
    const fileBytes = (await file.stat()).size;
    if (fileBytes === 0) fail('the file is empty');
    let sha256: string | undefined;
    let dbBytes = fileBytes;
    if (hasSha256Trailer(fileBytes)) {
      const check = await checkSha256Trailer(file, fileBytes, contentSha256);
      if (!check.ok) {
        fail(`its SHA-256 trailer does not match its content (stored ${check.stored.slice(0, 16)}…, computed ${check.computed.slice(0, 16)}…): the file is damaged or truncated`);
      }
      sha256 = check.stored;
      dbBytes = fileBytes - SHA256_TRAILER_BYTES;
    }
    const db = await BboltDb.fromHandle(file, { name, length: dbBytes, kind: 'etcd snapshot' });
    if (sha256 !== undefined ? dbBytes !== db.sizeBytes : fileBytes % db.pageSize !== 0) {
      fail(
        `it holds ${fileBytes} bytes, but its database is ${db.sizeBytes} bytes (${db.pageCount} pages of ${db.pageSize})` +
          `${sha256 !== undefined ? ' plus a 32-byte SHA-256 trailer' : ''}: it is truncated or has extra bytes`,
      );
    }

    let keyBucket: BucketRef | undefined;
    const small = Object.fromEntries(SMALL_BUCKETS.map((b) => [b, []])) as unknown as SmallBuckets;
    const bucketNames: string[] = [];
    for await (const { name: bucketName, bucket } of db.buckets()) {
      const text = bucketName.toString('latin1');
      bucketNames.push(text);
      if (text === 'key') keyBucket = bucket;
      else if ((SMALL_BUCKETS as readonly string[]).includes(text)) {
        const entries = small[text as keyof SmallBuckets];
        for await (const entry of db.entries(bucket)) {
          if (entry.isBucket) fail(`bucket '${text}' holds a nested bucket ${describeKey(entry.key)}`);
          entries.push({ key: Buffer.from(entry.key), value: Buffer.from(entry.value) });
        }
      }
    }
    if (!keyBucket) fail(`it has no 'key' bucket (buckets: ${bucketNames.join(', ') || 'none'}): not an etcd v3 backend`);

    const meta = decodeMetaBucket(small.meta, fail);
    const compactRevision = Math.max(meta.scheduledCompactRevision ?? 0, meta.finishedCompactRevision ?? 0);
    const last = await db.lastEntry(keyBucket);
    let lastMain = 0;
    if (last) {
      const rev = decodeRevisionKey(last.key);
      if (!rev) fail(`the last key of the key bucket, ${describeKey(last.key)}, is not a revision key`);
      lastMain = rev.main;
    }
    const cluster = small.cluster.find((e) => e.key.toString('latin1') === 'clusterVersion');
    return new EtcdSnapshot(
      name,
      file,
      db,
      keyBucket,
      fail,
      fileBytes,
      sha256,
      Math.max(lastMain, compactRevision),
      compactRevision,
      meta.scheduledCompactRevision,
      meta.finishedCompactRevision,
      meta.consistentIndex,
      meta.term,
      small.lease.map((e) => decodeLease(e, fail)),
      small.members.map((e) => decodeMember(e, fail)),
      small.members_removed.map((e) => decodeRemovedMember(e, fail)),
      cluster?.value.toString('utf8'),
      {
        ...decodeAuthBucket(small.auth, fail),
        users: small.authUsers.map(({ key, value }) => ({ name: key, value })),
        roles: small.authRoles.map(({ key, value }) => ({ name: key, value })),
      },
      small.alarm.map((e) => decodeAlarm(e, fail)),
      bucketNames,
    );
  }

  /** Bytes of the bbolt database (without the trailer). */
  get dbBytes(): number {
    return this.db.sizeBytes;
  }

  /**
   * Every stored revision in order, each checked: a well-formed revision key, strictly after the
   * one before, a decodable KeyValue with a key, and for puts mod revision = the revision,
   * 1 <= create revision <= mod revision, version >= 1.
   */
  async *revisions(): AsyncGenerator<EtcdRevision> {
    for await (const batch of this.revisionBatches()) yield* batch;
  }

  /** revisions() a bbolt leaf at a time, for walks over every record. */
  async *revisionBatches(): AsyncGenerator<EtcdRevision[]> {
    let previous: Revision | undefined;
    for await (const leaf of this.db.leaves(this.keyBucket)) {
      const batch: EtcdRevision[] = [];
      for (const entry of leaf) {
        if (entry.isBucket) this.fail(`the key bucket holds a nested bucket ${describeKey(entry.key)}`);
        const rev = decodeRevisionKey(entry.key);
        if (!rev) this.fail(`the key bucket holds ${describeKey(entry.key)}, which is not a revision key`);
        const at = (): string => `revision ${rev.main}_${rev.sub}${rev.tombstone ? ' (tombstone)' : ''}`;
        if (rev.main < 1) this.fail(`${at()} is below 1`);
        if (previous && compareRevisions(rev, previous) <= 0) this.fail(`${at()} is stored twice, as a put and a tombstone`);
        previous = rev;
        // A view into a page block read for this walk alone: nothing overwrites it.
        const value = entry.value;
        let kv: StoredKeyValue;
        try {
          kv = decodeKeyValue(value, `the KeyValue of ${at()}`);
        } catch (err) {
          return this.fail(errorMessage(err));
        }
        if (kv.key.length === 0) this.fail(`${at()} holds a KeyValue without a key`);
        if (!rev.tombstone) {
          if (kv.modRevision !== rev.main) this.fail(`${at()} holds a KeyValue with mod revision ${kv.modRevision}`);
          if (kv.createRevision < 1 || kv.createRevision > rev.main) this.fail(`${at()} holds a KeyValue created at revision ${kv.createRevision}`);
          if (kv.version < 1) this.fail(`${at()} holds a KeyValue with version ${kv.version}`);
        }
        batch.push({ main: rev.main, sub: rev.sub, tombstone: rev.tombstone, value, kv });
      }
      yield batch;
    }
  }

  /**
   * The history the image holds as of its compact revision, in batches: every revision above it
   * and, at or below it, only what compaction keeps (each key's latest revision when that is a
   * put). This equals revisionBatches() unless the image was taken while a compaction was still
   * deleting (scheduled ahead of finished); then a first pass over those old revisions picks the
   * kept ones.
   */
  async *history(): AsyncGenerator<EtcdRevision[]> {
    const unfinished = this.scheduledCompactRevision !== undefined && this.scheduledCompactRevision !== this.finishedCompactRevision;
    const keep = unfinished ? await scanKeep(this.revisions(), this.compactRevision, this.compactRevision, this.purpose()) : undefined;
    const keeps = keep?.pass();
    for await (const batch of this.revisionBatches()) {
      yield keeps === undefined ? batch : batch.filter((r) => r.main > this.compactRevision || keeps(r));
    }
  }

  /**
   * etcd 3.4's HashKV at `revision` (default: the image's revision), as `etcdctl endpoint hashkv
   * --rev` reports it for the cluster the image came from. Reads the key bucket twice when the
   * image was compacted (which compacted revisions count depends on later ones).
   */
  async hashKV(revision?: number): Promise<EtcdHashKV> {
    const atRev = revision ?? this.revision;
    if (revision !== undefined && (!Number.isSafeInteger(revision) || revision <= this.compactRevision || revision > this.revision)) {
      throw new UsageError(
        `Cannot hash etcd snapshot '${this.name}' at revision ${revision}: it holds revisions ${this.compactRevision + 1}..${this.revision}`,
      );
    }
    const hash = await hashByRev(() => this.revisions(), atRev, this.compactRevision, this.purpose());
    return { hash, revision: atRev, compactRevision: this.compactRevision };
  }

  /** Keys alive at `revision` (default: the image's revision), as a Range over all keys would count them. */
  async keyCount(revision = this.revision): Promise<number> {
    return (await scanKeep(this.revisions(), revision, this.compactRevision, this.purpose())).liveKeys;
  }

  /** What reading it is, for errors about temporary files. */
  private purpose(): string {
    return `read etcd snapshot '${this.name}'`;
  }

  /** bbolt's whole-file page accounting (see BboltDb.check), a full pass over every bucket. */
  checkPages(): Promise<BboltCheck> {
    return this.db.check();
  }

  /** The numbers `etcdctl snapshot status` prints for this file. */
  async fileStatus(): Promise<EtcdFileStatus> {
    const crc = new Crc32c();
    let totalKey = 0;
    let revision = 0;
    for await (const { name, bucket } of this.db.buckets()) {
      crc.update(name);
      const isKey = name.toString('latin1') === 'key';
      for await (const entry of this.db.entries(bucket)) {
        crc.update(entry.key);
        if (!entry.isBucket) crc.update(entry.value);
        if (isKey) revision = decodeRevisionKey(entry.key)?.main ?? revision;
        totalKey++;
      }
    }
    return { hash: crc.digest(), revision, totalKey, totalSize: this.db.sizeBytes };
  }

  async close(): Promise<void> {
    await this.db.close();
    await this.file.close();
  }
}

/** Opens an etcd snapshot file; see EtcdSnapshot. Close it when done. */
export function openEtcdSnapshot(path: string, options: OpenEtcdSnapshotOptions = {}): Promise<EtcdSnapshot> {
  return EtcdSnapshot.open(path, options);
}

/** True when the file starts like a bbolt database (an etcd snapshot rather than an archive). */
export async function isEtcdSnapshotFile(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(32);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return looksLikeBbolt(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
