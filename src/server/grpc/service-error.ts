import * as grpc from '@grpc/grpc-js';
import { EtcdError } from '../../api/etcd-errors.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

/** An error as the client sees it: etcd's code and message, or INTERNAL for our own faults. */
export function toServiceError(err: unknown, logger: Logger): Partial<grpc.StatusObject> {
  if (err instanceof EtcdError) return { code: err.code, details: err.message };
  if (isStatusLike(err)) return err;
  logger.error('request failed', { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined });
  return { code: grpc.status.INTERNAL, details: `strata: ${errorMessage(err)}` };
}

function isStatusLike(err: unknown): err is Partial<grpc.StatusObject> {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

export function unimplemented(what: string): Partial<grpc.StatusObject> {
  return { code: grpc.status.UNIMPLEMENTED, details: `strata: ${what} is not supported by this server yet` };
}

/** Adapts an async function to a grpc-js unary handler. */
export function unary<Req, Res>(
  logger: Logger,
  fn: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let result: Promise<Res>;
    try {
      result = Promise.resolve(fn(call.request, call));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => callback(null, response),
      (err: unknown) => callback(toServiceError(err, logger)),
    );
  };
}
