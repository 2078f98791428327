import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding the .proto files, found from this module whether run from src/ or a build dir. */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'src', 'api', 'proto');
    if (existsSync(join(candidate, 'rpc.proto'))) return candidate;
    const local = join(dir, 'proto');
    if (existsSync(join(local, 'rpc.proto'))) return local;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find etcd API definitions: src/api/proto/rpc.proto is missing');
    dir = parent;
  }
}
