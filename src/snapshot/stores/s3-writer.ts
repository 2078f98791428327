import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { formatSidecar } from '../../archive/index.js';
import { formatBytes } from '../../util/byte-size.js';
import { IntegrityError, StrataError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { s3Error, type S3ErrorContext } from './s3-errors.js';
import { MultipartUpload } from './s3-multipart.js';
import { maxObjectBytes, partBytes } from './s3-part-size.js';
import type { StoreWriter } from './store.js';

/**
 * Metadata on every archive this store uploads. An archive carrying it but lacking its sidecar
 * is a write that never committed: readers refuse it and the stale sweep may delete it.
 */
export const archiveMarker = 'strata-archive';

export interface S3Target {
  client: S3Client;
  bucket: string;
  key: string;
  sidecarKey: string;
  /** Server-side encryption parameters for every object we put. */
  encryption: { ServerSideEncryption?: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string };
  /** Bytes of the first part; later parts grow (see partBytes). */
  partSize: number;
  queueSize: number;
  /** Parts one object may have (S3: 10,000). */
  maxParts: number;
  logger: Logger;
  errors: S3ErrorContext;
}

/**
 * Hashes the archive and cuts it into parts of partBytes. Each part buffer is allocated once
 * per part size and every byte is copied into it once; a write waits while the uploader has no
 * free slot, so memory stays at (queueSize + 1) parts however fast the archive is produced.
 */
class PartWriter extends Writable {
  readonly hash = createHash('sha256');
  private part: Buffer | undefined;
  private filled = 0;
  private partsSent = 0;
  /** Buffers of parts that arrived, filled again rather than left for the garbage collector. */
  private spare: Buffer[] = [];

  constructor(
    private readonly target: Pick<S3Target, 'partSize' | 'maxParts' | 'errors'>,
    private readonly upload: MultipartUpload,
  ) {
    super();
  }

  /** The whole archive when it never filled a part (see commit). */
  get unsent(): Buffer {
    return this.part?.subarray(0, this.filled) ?? Buffer.alloc(0);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.fill(chunk).then(
      () => callback(),
      (err: unknown) => callback(s3Error(this.target.errors, err)),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Smaller than one part: kept for a single PutObject at commit.
    if (!this.upload.started) return callback();
    (async () => {
      if (this.filled > 0) await this.send();
      await this.upload.finish();
    })().then(
      () => callback(),
      (err: unknown) => callback(s3Error(this.target.errors, err)),
    );
  }

  private async fill(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length; ) {
      this.part ??= this.nextPartBuffer();
      const copied = chunk.copy(this.part, this.filled, offset);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.part.length) await this.send();
    }
  }

  private nextPartBuffer(): Buffer {
    if (this.partsSent >= this.target.maxParts) {
      const limit = `${this.target.maxParts} parts (${formatBytes(maxObjectBytes(this.target.partSize, this.target.maxParts))})`;
      throw new StrataError(
        'STRATA_S3_TOO_LARGE',
        `Cannot write ${this.target.errors.location}: the archive is larger than one S3 object of ${limit} can hold; save it to a file instead`,
      );
    }
    const size = partBytes(this.partsSent, this.target.partSize);
    // Buffers of an earlier, smaller part size are left to the garbage collector.
    this.spare = this.spare.filter((b) => b.length === size);
    return this.spare.pop() ?? Buffer.allocUnsafe(size);
  }

  private async send(): Promise<void> {
    const [whole, part] = [this.part, this.unsent];
    this.part = undefined;
    this.filled = 0;
    this.partsSent++;
    await this.upload.add(part, () => {
      if (whole !== undefined) this.spare.push(whole);
    });
  }
}

async function deleteObjectQuietly(target: S3Target, key: string): Promise<void> {
  await target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key })).catch((err: unknown) => {
    target.logger.warn('could not delete an incomplete snapshot object', { location: `s3://${target.bucket}/${key}`, error: (err as Error).name });
  });
}

/**
 * Streams the archive to its final key as a multipart upload. The object appears only when
 * commit() has checked the SHA-256 of the bytes sent and completes the upload, so a killed or
 * failed writer leaves no object at all. An archive smaller than one part goes up as a single
 * PutObject from commit() instead: one request rather than three, and a small save that fails
 * leaves no pending upload behind on servers that cannot abort one. The sidecar `<key>.sha256`
 * (the SHA-256 in its body and as x-amz-meta-sha256) is written last and is the commit mark: an
 * archive without it is incomplete. It cannot ride on the archive itself, because the hash is
 * known only after the upload began, and metadata cannot be added to an object without a copy
 * (a single CopyObject stops at 5 GiB).
 */
export function startUpload(target: S3Target): StoreWriter {
  let state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';
  const objectParams = { ContentType: 'application/octet-stream', Metadata: { [archiveMarker]: '1' }, ...target.encryption };
  const upload = new MultipartUpload(
    { ...target, objectParams, location: target.errors.location },
    // A failing upload fails the caller's writes at once instead of at the next full part.
    (err) => {
      if (state === 'open') stream.destroy(s3Error(target.errors, err));
    },
  );
  const stream = new PartWriter(target, upload);
  // Failures reach the caller through its own pipeline and through commit(); this listener only
  // keeps a writer destroyed while nobody is piping into it from crashing the process.
  stream.on('error', () => undefined);

  const fail = async (): Promise<void> => {
    state = 'aborted';
    await upload.abort();
  };

  const abort = async (): Promise<void> => {
    // Once commit() has begun it finishes or cleans up by itself.
    if (state !== 'open') return;
    stream.destroy();
    await fail();
  };

  const publish = async (): Promise<void> => {
    if (upload.started) return upload.complete();
    await target.client.send(new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: stream.unsent, ...objectParams }));
  };

  return {
    stream,
    async commit(sha256: string): Promise<string> {
      if (state !== 'open') throw new StrataError('STRATA_S3_WRITER', `Cannot write ${target.errors.location}: the writer is already ${state}`);
      if (!stream.writableEnded) {
        await abort();
        throw new StrataError('STRATA_S3_WRITER', `Cannot write ${target.errors.location}: commit() was called before the archive stream ended`);
      }
      state = 'committing';
      try {
        // The last part may still be on its way.
        await finished(stream);
      } catch (err) {
        await fail();
        throw err instanceof StrataError ? err : new IntegrityError(`Cannot write ${target.errors.location}: the archive stream was destroyed before its end`);
      }
      const uploaded = stream.hash.digest('hex');
      if (uploaded !== sha256.toLowerCase()) {
        await fail();
        throw new IntegrityError(`Cannot write ${target.errors.location}: the SHA-256 given (${sha256}) differs from the bytes uploaded (${uploaded})`);
      }
      try {
        await publish();
      } catch (err) {
        await fail();
        throw s3Error(target.errors, err);
      }
      try {
        await target.client.send(
          new PutObjectCommand({
            Bucket: target.bucket,
            Key: target.sidecarKey,
            Body: formatSidecar(uploaded, target.key),
            ContentType: 'text/plain',
            Metadata: { sha256: uploaded },
            ...target.encryption,
          }),
        );
      } catch (err) {
        state = 'aborted';
        await deleteObjectQuietly(target, target.key);
        throw s3Error(target.errors, err);
      }
      state = 'committed';
      return target.errors.location;
    },
    abort,
  };
}
