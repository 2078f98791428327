import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { StrataError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

export interface MultipartTarget {
  client: S3Client;
  bucket: string;
  key: string;
  /** Parameters the object is created with (content type, metadata, encryption). */
  objectParams: { ContentType: string; Metadata: Record<string, string>; ServerSideEncryption?: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string };
  queueSize: number;
  logger: Logger;
  location: string;
}

/**
 * One multipart upload: parts go up in order with at most `queueSize` in flight, and the object
 * exists only after complete(). Each part is sent as the caller's Buffer, uncopied, so memory is
 * the caller's part buffers and nothing more. The upload begins with the first part, so an
 * archive that never fills one costs no pending upload.
 */
export class MultipartUpload {
  private created: Promise<string> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly parts: CompletedPart[] = [];
  private failure: unknown;
  /** Cancels the parts on their way when the upload is given up. */
  private readonly cancel = new AbortController();

  /** `onFailure` hears of the first failed request at once, even while no part is waiting to go. */
  constructor(
    private readonly target: MultipartTarget,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  get started(): boolean {
    return this.created !== undefined;
  }

  /**
   * Sends the next part once fewer than `queueSize` are in flight; resolves when it is on its
   * way (not when it arrived), which is the caller's cue to fill the next one. `arrived` runs
   * once the server has the part: the SDK no longer reads the buffer. Every part but the last
   * must be at least 5 MiB on S3.
   */
  async add(part: Buffer, arrived: () => void): Promise<void> {
    const { client, bucket, key } = this.target;
    if (this.failure !== undefined) throw this.failure;
    this.created ??= this.create();
    const uploadId = await this.created;
    while (this.inFlight.size >= this.target.queueSize && this.failure === undefined) await Promise.race(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    const partNumber = this.parts.length + 1;
    // Filled in on arrival; the list stays in part order whatever order the answers come in.
    const entry: CompletedPart = { PartNumber: partNumber };
    this.parts.push(entry);
    const sent = client
      .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: part }), { abortSignal: this.cancel.signal })
      .then(
        (answer) => {
          entry.ETag = answer.ETag;
          arrived();
        },
        (err: unknown) => this.fail(err),
      )
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  /** Waits for every part sent to arrive; throws the first failure. */
  async finish(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Makes the object appear, assembled from the parts in order. */
  async complete(): Promise<void> {
    await this.finish();
    const uploadId = await this.created;
    if (uploadId === undefined) throw new StrataError('STRATA_S3_WRITER', `Cannot write ${this.target.location}: no part was uploaded`);
    await this.target.client.send(
      new CompleteMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: uploadId, MultipartUpload: { Parts: this.parts } }),
    );
    this.target.logger.debug('completed the multipart upload', { location: this.target.location, uploadId, parts: this.parts.length });
  }

  /**
   * Cancels the parts on their way and asks the server to drop the ones it has. A server that
   * refuses is logged, not thrown, so the error that led here stays the one the caller sees.
   */
  async abort(): Promise<void> {
    // Also stops a part that is still waiting for the create or a free slot.
    this.fail(new StrataError('STRATA_S3_WRITER', `Cannot write ${this.target.location}: the upload was aborted`));
    if (this.created === undefined) return;
    this.cancel.abort();
    await Promise.all(this.inFlight);
    // A create already sent may still succeed on the server; it is aborted like any other.
    const uploadId = await this.created.catch(() => undefined);
    if (uploadId === undefined) return;
    try {
      await this.target.client.send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: uploadId }));
      this.target.logger.debug('aborted the multipart upload', { location: this.target.location, uploadId });
    } catch (err) {
      this.target.logger.warn('could not abort the multipart upload; a later save under this prefix or a bucket lifecycle rule removes it', {
        location: this.target.location,
        uploadId,
        error: (err as Error).name,
      });
    }
  }

  private async create(): Promise<string> {
    const { client, bucket, key, objectParams } = this.target;
    try {
      const answer = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...objectParams }));
      if (answer.UploadId === undefined) throw new StrataError('STRATA_S3', `Cannot write ${this.target.location}: the server returned no upload id`);
      this.target.logger.debug('began a multipart upload', { location: this.target.location, uploadId: answer.UploadId });
      return answer.UploadId;
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.onFailure(err);
  }
}
