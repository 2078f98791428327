import type { TlsFiles } from '../config/server-config.js';
import { readFlagFile } from '../../util/flag-values.js';

/** The --peer-* files as node's TLS options: the same certificate serves and, as a client, authenticates. */
export interface PeerTlsOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export function peerTlsOptions(tls: TlsFiles | undefined): PeerTlsOptions | undefined {
  if (!tls) return undefined;
  return {
    cert: readFlagFile('--peer-cert-file', tls.certFile),
    key: readFlagFile('--peer-key-file', tls.keyFile),
    ...(tls.trustedCaFile ? { ca: readFlagFile('--peer-trusted-ca-file', tls.trustedCaFile) } : {}),
  };
}
