import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from './proto-dir.js';

/**
 * Loads etcd's v3 API (src/api/proto) for @grpc/grpc-js, shared by the bundled server and
 * the client so both speak exactly one wire contract.
 *
 * Decoding conventions (see etcd-types.ts): field names keep the proto's snake_case, 64-bit
 * integers arrive as decimal strings (never lossy numbers), bytes as Buffers, enums as their
 * names, and every field is present with its default.
 */
export const protoLoaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

export interface EtcdServices {
  KV: grpc.ServiceClientConstructor;
  Watch: grpc.ServiceClientConstructor;
  Lease: grpc.ServiceClientConstructor;
  Cluster: grpc.ServiceClientConstructor;
  Maintenance: grpc.ServiceClientConstructor;
  Auth: grpc.ServiceClientConstructor;
}

let cached: EtcdServices | undefined;

/** The etcdserverpb services: `.service` for a server, `new X(address, credentials)` for a client. */
export function etcdServices(): EtcdServices {
  if (cached) return cached;
  const dir = protoDir();
  const definition = protoLoader.loadSync(['rpc.proto'], { ...protoLoaderOptions, includeDirs: [dir] });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { etcdserverpb: EtcdServices };
  cached = pkg.etcdserverpb;
  return cached;
}
