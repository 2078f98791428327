import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { UsageError } from '../../util/errors.js';

export interface S3ClientOptions {
  /** An S3-compatible server (MinIO, Ceph, s3rver…); default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL. */
  endpoint?: string | undefined;
  /** Default: true with a custom endpoint (most S3-compatible servers have no per-bucket host names). */
  forcePathStyle?: boolean | undefined;
  region?: string | undefined;
}

/** A firewall that drops packets would otherwise hold a save until the kernel gives up (minutes). */
const connectionTimeoutMs = 10_000;

/** The endpoint we talk to, if not AWS's own; error messages name it. */
export function resolveEndpoint(options: S3ClientOptions): string | undefined {
  const fromEnv = process.env['AWS_ENDPOINT_URL_S3'] || process.env['AWS_ENDPOINT_URL'] || undefined;
  const endpoint = options.endpoint ?? fromEnv;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new UsageError(`Invalid S3 endpoint '${endpoint}': expected http://host:port or https://host (--s3-endpoint, AWS_ENDPOINT_URL_S3)`);
  }
  return endpoint;
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
    requestHandler: { connectionTimeout: connectionTimeoutMs },
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  // A custom endpoint rarely cares about the region, but the SDK insists on one to sign with.
  if (region !== undefined) config.region = region;
  else if (endpoint !== undefined) config.region = 'us-east-1';
  return quietly(() => new S3Client(config));
}
