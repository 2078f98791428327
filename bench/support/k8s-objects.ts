// A seeded data set that looks like what Kubernetes keeps in etcd: JSON objects of 2–6 KiB under
// /registry/<resource>/<namespace>/<name>, partly compressible (field names, label values and
// prose-like config text repeat; uids, tokens and certificates are fresh random bytes).
import { EtcdClient } from '../../src/client/client.js';
import { seededRandom } from '../../test/support/random.js';

export const DATA_SET_SEED = 20261125;

const RESOURCES = ['configmaps', 'secrets', 'pods', 'deployments', 'services'];
const WORDS = (
  'server listen port timeout retry backoff cache size limit replicas image tag pull policy always ' +
  'memory cpu request volume mount path readiness liveness probe http get initial delay period ' +
  'threshold failure success env value from secret key ref config map name namespace selector match'
).split(' ');
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export interface DataObject {
  key: Buffer;
  value: Buffer;
}

/** The `index`-th object of the data set; the same bytes for the same seed and index. */
export function makeObject(seed: number, index: number): DataObject {
  const random = seededRandom(seed ^ Math.imul(index + 1, 0x9e3779b1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const hex = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(random() * 16).toString(16);
    return s;
  };
  const b64 = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += BASE64[Math.floor(random() * 64)];
    return s;
  };
  const resource = RESOURCES[index % RESOURCES.length]!;
  const namespace = `team-${Math.floor(random() * 40)}`;
  const name = `${pick(WORDS)}-${pick(WORDS)}-${index.toString(36)}`;
  const lines: string[] = [];
  const textBytes = 1200 + Math.floor(random() * 2400);
  for (let size = 0; size < textBytes; ) {
    const line = `${pick(WORDS)}.${pick(WORDS)}: ${pick(WORDS)}-${Math.floor(random() * 1000)}`;
    lines.push(line);
    size += line.length + 1;
  }
  const object = {
    kind: resource.slice(0, -1),
    apiVersion: 'v1',
    metadata: {
      name,
      namespace,
      uid: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
      resourceVersion: String(100000 + index),
      creationTimestamp: new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 3e10)).toISOString(),
      labels: { app: `${pick(WORDS)}-${Math.floor(random() * 200)}`, tier: pick(['frontend', 'backend', 'cache', 'batch']), 'app.kubernetes.io/managed-by': 'helm' },
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1' }],
    },
    data: { 'config.yaml': lines.join('\n'), 'tls.crt': b64(400 + Math.floor(random() * 1200)) },
  };
  return { key: Buffer.from(`/registry/${resource}/${namespace}/${name}`), value: Buffer.from(JSON.stringify(object)) };
}

export interface LoadResult {
  objects: number;
  keyBytes: number;
  valueBytes: number;
  seconds: number;
}

/**
 * Puts objects 0, 1, 2… until their values reach `targetBytes`, `perTxn` puts per txn with
 * `concurrency` txns in flight (etcd batches what arrives together into one backend commit).
 */
export async function loadObjects(
  client: EtcdClient,
  options: { seed: number; targetBytes: number; perTxn?: number; concurrency?: number; onProgress?: (valueBytes: number) => void },
): Promise<LoadResult> {
  const perTxn = options.perTxn ?? 8;
  const concurrency = options.concurrency ?? 32;
  const started = process.hrtime.bigint();
  let next = 0;
  let valueBytes = 0;
  let keyBytes = 0;
  const worker = async (): Promise<void> => {
    while (valueBytes < options.targetBytes) {
      const ops = [];
      for (let i = 0; i < perTxn && valueBytes < options.targetBytes; i++) {
        const { key, value } = makeObject(options.seed, next++);
        valueBytes += value.length;
        keyBytes += key.length;
        ops.push({ request_put: { key, value } });
      }
      await client.txn({ success: ops }, { timeoutMs: 60_000 });
      options.onProgress?.(valueBytes);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { objects: next, keyBytes, valueBytes, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
