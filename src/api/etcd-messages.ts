import protobuf from 'protobufjs';
import { protoDir } from './proto-dir.js';

/**
 * Encoders and decoders for any etcd v3 API message by name (etcdserverpb.*), decoding to
 * the same shapes as the gRPC layer (see etcd-types.ts), for messages that travel outside a
 * gRPC call: the bundled server's log entries, for instance.
 */
export interface MessageCodec<T> {
  encode(message: T): Buffer;
  decode(bytes: Uint8Array): T;
}

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (root) return root;
  const dir = protoDir();
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => (target.startsWith('/') ? target : `${dir}/${target}`);
  r.loadSync(['rpc.proto'], { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

const conversion: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

export function messageCodec<T>(typeName: string): MessageCodec<T> {
  const type = loadRoot().lookupType(typeName);
  return {
    encode: (message: T): Buffer => {
      const bytes = type.encode(type.fromObject(message as Record<string, unknown>)).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode: (bytes: Uint8Array): T => type.toObject(type.decode(bytes), conversion) as T,
  };
}
