import { UsageError } from '../../util/errors.js';

/** `s3://bucket/key` names one object; `s3://bucket/prefix/` (or `s3://bucket`) a store of many. */
export interface S3Location {
  bucket: string;
  /** The object key, or the prefix ('' for the whole bucket) when isPrefix. */
  key: string;
  isPrefix: boolean;
}

export function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

/** Parsed by hand rather than with URL: keys are taken byte for byte, never percent-decoded. */
export function parseS3Url(url: string): S3Location {
  const rest = isS3Url(url) ? url.slice('s3://'.length) : undefined;
  const slash = rest?.indexOf('/') ?? -1;
  const bucket = rest === undefined ? '' : slash < 0 ? rest : rest.slice(0, slash);
  if (rest === undefined || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(`Invalid S3 location '${url}': expected s3://bucket/key or s3://bucket/prefix/ with a valid bucket name`);
  }
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  return { bucket, key, isPrefix: key === '' || key.endsWith('/') };
}

export function formatS3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
