import { PassThrough, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseSidecar, sidecarName } from '../../archive/index.js';
import { IntegrityError, StrataError, UsageError } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { createS3Client, resolveEndpoint, type S3ClientOptions } from './s3-client.js';
import { incompleteError, isNoSuchKey, isUnsupported, s3Error, type S3Action, type S3ErrorContext } from './s3-errors.js';
import { formatS3Url, parseS3Url, type S3Location } from './s3-url.js';
import { MAX_PARTS } from './s3-part-size.js';
import { archiveMarker, startUpload, type S3Target } from './s3-writer.js';
import { newestFirst, type SnapshotStore, type StoredSnapshot, type StoreWriter } from './store.js';

export interface S3StoreOptions extends S3ClientOptions {
  sse?: 'AES256' | 'aws:kms' | undefined;
  sseKmsKeyId?: string | undefined;
  logger?: Logger | undefined;
  /**
   * Bytes of the first multipart part (S3's minimum is 5 MiB); default 5 MiB. Parts double every
   * 1,000 up to 64 MiB, so 10,000 parts of a 5 MiB start hold 448 GiB (an archive is smaller than
   * its etcd image, and etcd recommends at most 8 GiB).
   */
  partSize?: number | undefined;
  /** Parts one object may have; default 10,000 (S3's limit). A larger archive fails with one line. */
  maxParts?: number | undefined;
  /**
   * Parts in flight at once; default 1. Each part is a reused buffer sent uncopied, so the upload
   * holds (queueSize + 1) × partSize: the parts on their way and the one filling meanwhile.
   */
  queueSize?: number | undefined;
  /** Pending uploads and uncommitted archives older than this are swept before a save. Default 24 h. */
  staleAfterMs?: number | undefined;
}

const MiB = 1024 * 1024;

interface ListedObject {
  key: string;
  size: number;
  modified: Date;
}

/**
 * `s3://bucket/key` (one snapshot) or `s3://bucket/prefix/` (a store of many). An archive is
 * complete only when its `<key>.sha256` sidecar exists (see startUpload for why).
 */
export class S3Store implements SnapshotStore {
  readonly location: string;
  private readonly logger: Logger;

  private constructor(
    private readonly where: S3Location,
    private readonly client: S3Client,
    private readonly endpoint: string | undefined,
    private readonly options: S3StoreOptions,
  ) {
    this.location = formatS3Url(where.bucket, where.key);
    this.logger = (options.logger ?? silentLogger).child({ store: this.location });
  }

  static fromUrl(url: string, options: S3StoreOptions = {}): S3Store {
    const where = parseS3Url(url);
    if (options.sseKmsKeyId !== undefined && options.sse !== 'aws:kms') {
      throw new UsageError(`Invalid S3 options for ${url}: a KMS key id needs server-side encryption 'aws:kms'`);
    }
    const endpoint = resolveEndpoint(options);
    return new S3Store(where, createS3Client(options, endpoint), endpoint, options);
  }

  /** Closes the client's idle connections. */
  destroy(): void {
    this.client.destroy();
  }

  /**
   * One listing of the destination's prefix: a missing bucket, wrong credentials or an
   * unreachable endpoint fail here, before a save reads its source. A policy may allow writing
   * without listing, so AccessDenied is left for the upload to report if it applies there too.
   */
  async preflight(): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.where.bucket, Prefix: this.where.key, MaxKeys: 1 }));
    } catch (err) {
      if ((err as { name?: unknown }).name === 'AccessDenied') return;
      throw s3Error(this.context('write', this.location), err);
    }
  }

  async createWriter(name: string): Promise<StoreWriter> {
    const key = this.keyFor(name);
    const target: S3Target = {
      client: this.client,
      bucket: this.where.bucket,
      key,
      sidecarKey: sidecarName(key),
      encryption: {
        ...(this.options.sse !== undefined ? { ServerSideEncryption: this.options.sse } : {}),
        ...(this.options.sseKmsKeyId !== undefined ? { SSEKMSKeyId: this.options.sseKmsKeyId } : {}),
      },
      partSize: this.options.partSize ?? 5 * MiB,
      queueSize: this.options.queueSize ?? 1,
      maxParts: this.options.maxParts ?? MAX_PARTS,
      logger: this.logger,
      errors: this.context('write', formatS3Url(this.where.bucket, key)),
    };
    // An overwrite must not look complete under the old sidecar.
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.sidecarKey }));
    } catch (err) {
      throw s3Error(target.errors, err);
    }
    await this.removeStale();
    return startUpload(target);
  }

  async openReader(): Promise<{ stream: Readable; size?: number; sha256?: string }> {
    const ctx = this.context('read', this.location);
    if (this.where.isPrefix) {
      throw new UsageError(
        `Cannot read ${this.location}: it is a prefix holding many snapshots; name one object in it (see 'strata snapshot ls ${this.location}')`,
      );
    }
    const sidecarKey = sidecarName(this.where.key);
    let sidecar: string | undefined;
    let object;
    try {
      sidecar = await this.readText(sidecarKey);
      object = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.where.key }));
    } catch (err) {
      throw s3Error(ctx, err);
    }
    const stream = object.Body;
    if (!(stream instanceof Readable)) throw new StrataError('STRATA_S3', `Cannot read ${this.location}: the response has no body stream`);
    let sha256: string | undefined;
    if (sidecar !== undefined) {
      sha256 = parseSidecar(sidecar);
      if (sha256 === undefined) {
        stream.destroy();
        throw new IntegrityError(`Cannot read ${this.location}: '${sidecarKey}' is not a sha256sum line; save the snapshot again`);
      }
    } else if (object.Metadata?.[archiveMarker] !== undefined) {
      stream.destroy();
      throw incompleteError(ctx, sidecarKey);
    } else {
      // Uploaded by other tools: readable, with a checksum only if they left one in metadata.
      sha256 = parseSidecar(`${object.Metadata?.['sha256'] ?? ''}  -`);
    }
    // A connection lost mid-transfer surfaces as the same one-line error as any other S3 failure.
    // (pipeline() would hand the raw error on first.) A reader that stops early releases the connection.
    const mapped = new PassThrough();
    stream.on('error', (err) => mapped.destroy(s3Error(ctx, err)));
    mapped.once('close', () => stream.destroy());
    stream.pipe(mapped);
    return {
      stream: mapped,
      ...(object.ContentLength !== undefined ? { size: object.ContentLength } : {}),
      ...(sha256 !== undefined ? { sha256 } : {}),
    };
  }

  async list(): Promise<StoredSnapshot[]> {
    const objects = await this.listObjects('list');
    const keys = new Set(objects.map((o) => o.key));
    return objects
      .filter((o) => this.inScope(o.key) && !o.key.endsWith('.sha256') && keys.has(sidecarName(o.key)))
      .map((o) => ({
        location: formatS3Url(this.where.bucket, o.key),
        name: o.key.slice(this.where.isPrefix ? this.where.key.length : o.key.lastIndexOf('/') + 1),
        size: o.size,
        modified: o.modified,
      }))
      .sort(newestFirst);
  }

  /**
   * Removes what interrupted saves left in this store's scope and is older than `olderThanMs`:
   * pending multipart uploads, and archives of ours that never got their sidecar. Best effort:
   * a server or policy that refuses is logged, never fatal.
   */
  async removeStale(olderThanMs = this.options.staleAfterMs ?? 24 * 60 * 60 * 1000): Promise<{ uploads: number; objects: number }> {
    const cutoff = Date.now() - olderThanMs;
    const removed = { uploads: 0, objects: 0 };
    try {
      removed.uploads = await this.abortStaleUploads(cutoff);
    } catch (err) {
      const error = s3Error(this.context('list', this.location), err).message;
      // Info, not a warning: such a server says so on every save, and nothing is wrong with this one.
      if (isUnsupported(err)) {
        this.logger.info('this S3 server cannot list pending multipart uploads; stale parts stay until a bucket lifecycle rule removes them', { error });
      } else {
        this.logger.warn('could not list pending multipart uploads', { error });
      }
    }
    try {
      removed.objects = await this.deleteUncommitted(cutoff);
    } catch (err) {
      this.logger.warn('could not look for incomplete snapshots', { error: s3Error(this.context('list', this.location), err).message });
    }
    return removed;
  }

  private async abortStaleUploads(cutoff: number): Promise<number> {
    let count = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.where.bucket,
          Prefix: this.where.key,
          ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
          ...(uploadIdMarker !== undefined ? { UploadIdMarker: uploadIdMarker } : {}),
        }),
      );
      for (const upload of page.Uploads ?? []) {
        const { Key: key, UploadId: uploadId, Initiated: initiated } = upload;
        if (key === undefined || uploadId === undefined || !this.inScope(key)) continue;
        if (initiated === undefined || initiated.getTime() > cutoff) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.where.bucket, Key: key, UploadId: uploadId }));
        this.logger.info('removed a stale multipart upload', {
          location: formatS3Url(this.where.bucket, key),
          uploadId,
          initiated: initiated.toISOString(),
        });
        count += 1;
      }
      if (page.IsTruncated !== true) return count;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  private async deleteUncommitted(cutoff: number): Promise<number> {
    const objects = await this.listObjects('list');
    const keys = new Set(objects.map((o) => o.key));
    let count = 0;
    for (const o of objects) {
      if (!this.inScope(o.key) || o.key.endsWith('.sha256') || keys.has(sidecarName(o.key))) continue;
      if (o.modified.getTime() > cutoff) continue;
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: o.key }));
      // Only archives this store wrote: a foreign object without a sidecar is the user's business.
      if (head.Metadata?.[archiveMarker] === undefined) continue;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key: o.key }));
      this.logger.info('removed an incomplete snapshot object', { location: formatS3Url(this.where.bucket, o.key), modified: o.modified.toISOString() });
      count += 1;
    }
    return count;
  }

  private keyFor(name: string): string {
    if (!this.where.isPrefix) return this.where.key;
    if (name === '' || name.includes('/') || name.endsWith('.sha256')) {
      throw new UsageError(`Invalid snapshot name '${name}' for ${this.location}: use a plain name without '/' or a .sha256 suffix`);
    }
    return this.where.key + name;
  }

  /** Direct children of the prefix, or exactly the one key. */
  private inScope(key: string): boolean {
    if (!this.where.isPrefix) return key === this.where.key || key === sidecarName(this.where.key);
    return key.startsWith(this.where.key) && !key.slice(this.where.key.length).includes('/');
  }

  private async listObjects(action: S3Action): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.where.bucket,
            Prefix: this.where.key,
            Delimiter: '/',
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (err) {
      throw s3Error(this.context(action, this.location), err);
    }
    return out;
  }

  private async readText(key: string): Promise<string | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: key }));
      return await object.Body?.transformToString('utf8');
    } catch (err) {
      if (isNoSuchKey(err)) return undefined;
      throw err;
    }
  }

  private context(action: S3Action, location: string): S3ErrorContext {
    return { action, location, bucket: this.where.bucket, endpoint: this.endpoint };
  }
}
