import type { TlsFiles } from '../config/server-config.js';
import { readPemFile } from '../grpc/listen.js';

/** The --peer-* files as node's TLS options: the same certificate serves and, as a client, authenticates. */
export interface PeerTlsOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export function peerTlsOptions(tls: TlsFiles | undefined): PeerTlsOptions | undefined {
  if (!tls) return undefined;
  return {
    cert: readPemFile(tls.certFile, '--peer-cert-file'),
    key: readPemFile(tls.keyFile, '--peer-key-file'),
    ...(tls.trustedCaFile ? { ca: readPemFile(tls.trustedCaFile, '--peer-trusted-ca-file') } : {}),
  };
}
