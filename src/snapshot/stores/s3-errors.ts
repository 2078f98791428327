import { IntegrityError, StrataError, errorMessage } from '../../util/errors.js';

export type S3Action = 'read' | 'write' | 'list';

const deniedNames = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
]);

const networkReasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
};

/** Codes of a connection that was up and then broke: the endpoint is right, the transfer is not. */
const lostCodes = new Set(['ECONNRESET', 'EPIPE']);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The errno of a failed connection, wherever Node or the SDK put it (AggregateError, cause). */
function networkCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 3) return undefined;
  const e = err as SdkLikeError;
  if (e.code !== undefined && e.code in networkReasons) return e.code;
  for (const inner of e.errors ?? []) {
    const code = networkCode(inner, depth + 1);
    if (code !== undefined) return code;
  }
  return networkCode(e.cause, depth + 1);
}

/** True when the server says the object (or its sidecar) is not there. */
export function isNoSuchKey(err: unknown): boolean {
  const e = err as SdkLikeError;
  return e?.name === 'NoSuchKey' || (e?.name === 'NotFound' && e.$metadata?.httpStatusCode === 404);
}

/** True when the server does not offer an operation (s3rver has no ListMultipartUploads). */
export function isUnsupported(err: unknown): boolean {
  const name = (err as SdkLikeError)?.name;
  return name === 'NotImplemented' || name === 'MethodNotAllowed';
}

export interface S3ErrorContext {
  action: S3Action;
  location: string;
  bucket: string;
  endpoint: string | undefined;
}

/**
 * One line naming the S3 location, what went wrong and the fix; never a stack trace, never a
 * secret (SDK messages can quote the access key id, so known cases get our own words).
 */
export function s3Error(ctx: S3ErrorContext, err: unknown): StrataError {
  if (err instanceof StrataError) return err;
  const head = `Cannot ${ctx.action} ${ctx.location}`;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkLikeError;
  const name = e.name ?? 'Error';
  const timedOut = name === 'TimeoutError' && /establish a connection/.test(e.message ?? '');
  const net = timedOut ? 'ETIMEDOUT' : networkCode(err);
  if (net !== undefined) {
    const where = ctx.endpoint ?? 'the AWS S3 endpoint';
    if (lostCodes.has(net)) {
      return new StrataError('STRATA_S3_CONNECTION_LOST', `${head}: lost the connection to ${where} (${networkReasons[net]}); run it again`, {
        cause: err,
      });
    }
    return new StrataError(
      'STRATA_S3_UNREACHABLE',
      `${head}: cannot reach ${where}: ${networkReasons[net]}; check --s3-endpoint (or AWS_ENDPOINT_URL_S3) and the network`,
      { cause: err },
    );
  }
  if (deniedNames.has(name) || e.$metadata?.httpStatusCode === 403) {
    return new StrataError(
      'STRATA_S3_ACCESS_DENIED',
      `${head}: access denied (${name}); check AWS_ACCESS_KEY_ID/AWS_PROFILE and the bucket policy`,
      { cause: err },
    );
  }
  if (name === 'CredentialsProviderError') {
    return new StrataError(
      'STRATA_S3_NO_CREDENTIALS',
      `${head}: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`,
      { cause: err },
    );
  }
  if (name === 'NoSuchBucket') {
    return new StrataError('STRATA_S3_NO_BUCKET', `${head}: bucket '${ctx.bucket}' does not exist; create it or check the URL`, {
      cause: err,
    });
  }
  if (isNoSuchKey(err)) {
    return new StrataError('STRATA_S3_NO_OBJECT', `${head}: no such object; check the key (see 'strata snapshot ls')`, { cause: err });
  }
  if (/region is missing/i.test(e.message ?? '')) {
    return new StrataError('STRATA_S3_NO_REGION', `${head}: no AWS region configured; set AWS_REGION or the profile's region`, {
      cause: err,
    });
  }
  const message = errorMessage(err).split('\n')[0] ?? '';
  return new StrataError('STRATA_S3', `${head}: ${name}: ${message}`, { cause: err });
}

export function incompleteError(ctx: S3ErrorContext, sidecarKey: string): IntegrityError {
  return new IntegrityError(
    `Cannot ${ctx.action} ${ctx.location}: the snapshot is incomplete (its upload was interrupted before '${sidecarKey}' was written); save it again`,
  );
}
