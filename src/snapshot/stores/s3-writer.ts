import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { formatSidecar } from '../../archive/index.js';
import { IntegrityError, StrataError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { s3Error, type S3ErrorContext } from './s3-errors.js';
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
  partSize: number;
  queueSize: number;
  logger: Logger;
  errors: S3ErrorContext;
}

/** Counts and hashes the bytes on their way to the uploader, and notes a proper end. */
class HashingPassThrough extends Transform {
  readonly hash = createHash('sha256');
  ended = false;

  /** Holds up to `ahead` bytes for the uploader, so the archive is produced while a part uploads. */
  constructor(ahead: number) {
    super({ readableHighWaterMark: ahead });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.ended = true;
    callback();
  }
}

async function deleteObjectQuietly(target: S3Target, key: string): Promise<void> {
  await target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key })).catch((err: unknown) => {
    target.logger.warn('could not delete an incomplete snapshot object', { location: `s3://${target.bucket}/${key}`, error: (err as Error).name });
  });
}

/**
 * Streams the archive to its final key as a multipart upload: S3 shows the object only once
 * CompleteMultipartUpload succeeds, so a killed writer leaves no object at all. The SHA-256 is
 * known only at the end, after the object exists, so the sidecar `<key>.sha256` (which carries
 * it in its body and as x-amz-meta-sha256) is written last and is the commit mark: an archive
 * without it is incomplete. Metadata cannot be added to an existing object without a copy, and
 * a single CopyObject stops at 5 GiB.
 */
export function startUpload(target: S3Target): StoreWriter {
  let state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';
  const stream = new HashingPassThrough(target.partSize);
  // Failures reach the caller through its own pipeline and through commit(); this listener only
  // keeps a writer destroyed while nobody is piping into it from crashing the process.
  stream.on('error', () => undefined);
  const upload = new Upload({
    client: target.client,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: stream,
      ContentType: 'application/octet-stream',
      Metadata: { [archiveMarker]: '1' },
      ...target.encryption,
    },
    partSize: target.partSize,
    queueSize: target.queueSize,
    // We abort ourselves, so that a server refusing the abort is logged rather than thrown over the real error.
    leavePartsOnError: true,
  });
  const done = upload.done().then(() => undefined);
  // A failing upload stops reading; fail the caller's writes instead of leaving them blocked.
  done.catch((err: unknown) => {
    if (state === 'open') stream.destroy(s3Error(target.errors, err));
  });

  const abortMultipart = async (): Promise<void> => {
    const uploadId = upload.uploadId;
    if (uploadId === undefined) return;
    try {
      await target.client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }));
      target.logger.debug('aborted the multipart upload', { location: target.errors.location, uploadId });
    } catch (err) {
      target.logger.warn('could not abort the multipart upload; a later save under this prefix or a bucket lifecycle rule removes it', {
        location: target.errors.location,
        uploadId,
        error: (err as Error).name,
      });
    }
  };

  const abort = async (err?: unknown): Promise<void> => {
    // Once commit() has begun it finishes or cleans up by itself.
    if (state !== 'open') return;
    state = 'aborted';
    // Always with an error: a stream destroyed without one would end the upload as if complete.
    stream.destroy(err instanceof Error ? err : new Error('snapshot write aborted'));
    // Leave nothing that looks complete: no object if the upload had finished, no parts if not.
    const completed = await done.then(
      () => true,
      () => false,
    );
    if (completed) await deleteObjectQuietly(target, target.key);
    else await abortMultipart();
  };

  return {
    stream,
    async commit(sha256: string): Promise<string> {
      if (state !== 'open') throw new StrataError('STRATA_S3_WRITER', `Cannot write ${target.errors.location}: the writer is already ${state}`);
      if (!stream.writableEnded) {
        // The upload would wait for the end forever.
        await abort();
        throw new StrataError('STRATA_S3_WRITER', `Cannot write ${target.errors.location}: commit() was called before the archive stream ended`);
      }
      state = 'committing';
      try {
        await done;
      } catch (err) {
        state = 'aborted';
        await abortMultipart();
        throw s3Error(target.errors, err);
      }
      const uploaded = stream.hash.digest('hex');
      if (!stream.ended || uploaded !== sha256.toLowerCase()) {
        state = 'aborted';
        await deleteObjectQuietly(target, target.key);
        throw new IntegrityError(
          stream.ended
            ? `Cannot write ${target.errors.location}: the SHA-256 given (${sha256}) differs from the bytes uploaded (${uploaded})`
            : `Cannot write ${target.errors.location}: the archive stream was destroyed before its end`,
        );
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
