import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { StrataError, UsageError, errorMessage } from '../../util/errors.js';
import { readFlagFile } from '../../util/flag-values.js';
import type { TlsFiles } from '../config/server-config.js';

/** etcd lets a request exceed --max-request-bytes by this much at the gRPC layer (grpcOverheadBytes). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

export function createGrpcServer(maxRequestBytes: number): grpc.Server {
  return new grpc.Server({
    'grpc.max_receive_message_length': maxRequestBytes + GRPC_OVERHEAD_BYTES,
    'grpc.max_send_message_length': 2 ** 31 - 1,
    'grpc.keepalive_time_ms': 2 * 60 * 60 * 1000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    // Channelz keeps per-call counters and traces for a debugging service we do not serve; it
    // costs CPU on every request.
    'grpc.enable_channelz': 0,
  });
}

export function serverCredentials(tls: TlsFiles | undefined, flagPrefix: '' | 'peer-'): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const cert = readFlagFile(`--${flagPrefix}cert-file`, tls.certFile);
  const key = readFlagFile(`--${flagPrefix}key-file`, tls.keyFile);
  const ca = tls.trustedCaFile === undefined ? null : readFlagFile(`--${flagPrefix}trusted-ca-file`, tls.trustedCaFile);
  checkPem(() => new X509Certificate(cert), `--${flagPrefix}cert-file`, tls.certFile, 'a PEM certificate');
  checkPem(() => createPrivateKey(key), `--${flagPrefix}key-file`, tls.keyFile, 'a PEM private key');
  if (ca) checkPem(() => new X509Certificate(ca), `--${flagPrefix}trusted-ca-file`, tls.trustedCaFile ?? '', 'a PEM CA certificate');
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], tls.clientCertAuth);
}

function checkPem(parse: () => unknown, flag: string, path: string, what: string): void {
  try {
    parse();
  } catch {
    throw new UsageError(`Cannot use ${flag} '${path}': it is not ${what}`);
  }
}

/** Binds one listen URL; a port in use or an address we cannot bind is one clear line. */
export function bindUrl(server: grpc.Server, url: URL, credentials: grpc.ServerCredentials, flag: string): Promise<number> {
  const host = url.hostname;
  const target = `${host}:${url.port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(target, credentials, (err, port) => {
      if (!err) {
        resolve(port);
        return;
      }
      const text = errorMessage(err);
      const why = text.includes('EADDRINUSE')
        ? 'address already in use; stop what holds the port or choose another'
        : text.includes('EADDRNOTAVAIL')
          ? 'the address is not on this machine'
          : text.includes('EACCES')
            ? 'permission denied (ports below 1024 need privileges)'
            : text;
      reject(new StrataError('STRATA_LISTEN', `Cannot listen on ${url.protocol}//${target} (${flag}): ${why}`));
    });
  });
}
