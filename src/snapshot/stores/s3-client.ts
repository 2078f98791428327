import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  /** An S3-compatible server (MinIO, Ceph, s3rver…); default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Default: true with a custom endpoint (most S3-compatible servers have no per-bucket host names). */
  forcePathStyle?: boolean;
  region?: string;
}

/** The endpoint we talk to, if not AWS's own; error messages name it. */
export function resolveEndpoint(options: S3ClientOptions): string | undefined {
  const fromEnv = process.env['AWS_ENDPOINT_URL_S3'] || process.env['AWS_ENDPOINT_URL'];
  return options.endpoint ?? (fromEnv === '' ? undefined : fromEnv);
}

const warningSwitch = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * The SDK warns once per process, on stderr, that a future release needs a newer Node. That is
 * for our maintainers, not for a cron job's mail: silence it while the client is built (the SDK
 * checks only then) and leave the environment as we found it.
 */
function quietly<T>(build: () => T): T {
  const before = process.env[warningSwitch];
  process.env[warningSwitch] = 'true';
  try {
    return build();
  } finally {
    if (before === undefined) delete process.env[warningSwitch];
    else process.env[warningSwitch] = before;
  }
}

/**
 * Credentials come from the SDK's standard chain (environment, shared files, profile, SSO,
 * instance roles). Checksums only where S3 requires them: S3-compatible servers such as s3rver
 * store the aws-chunked framing of a streamed body as data otherwise; the whole-file SHA-256
 * we write beside each archive is the end-to-end check.
 */
export function createS3Client(options: S3ClientOptions, endpoint: string | undefined): S3Client {
  const region = options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  const config: S3ClientConfig = {
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  // A custom endpoint rarely cares about the region, but the SDK insists on one to sign with.
  if (region !== undefined) config.region = region;
  else if (endpoint !== undefined) config.region = 'us-east-1';
  return quietly(() => new S3Client(config));
}
