import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdClient } from '../../client/client.js';
import { resolveServerConfig } from '../../server/config/server-config.js';
import { EtcdServer, type StartedServer } from '../../server/etcd-server.js';
import { formatId } from '../../server/membership/ids.js';
import { compareWithCluster } from '../../snapshot/against.js';
import { verifySnapshot } from '../../snapshot/inspect.js';
import { saveSnapshot } from '../../snapshot/save.js';
import { liveArchive } from '../../snapshot/sources/live-source.js';
import { pickMember } from '../../snapshot/sources/pick-member.js';
import { closeStore, openStore } from '../../snapshot/stores/open-store.js';
import { createLogger } from '../../util/log.js';
import { toolVersion } from '../version.js';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * What `strata demo` runs: the main job on the bundled default, end to end, in a temporary dir:
 * start a one-member server, write and read data through the etcd API, save a snapshot and
 * verify it against the live cluster, restart the server on the same data dir and check
 * that everything is still there, byte for byte and hash for hash.
 */
export async function runDemo(options: { keys: string; keep?: boolean }): Promise<void> {
  const keys = Number(options.keys);
  const dir = mkdtempSync(join(tmpdir(), 'strata-demo-'));
  const logger = createLogger(process.stderr, 'warn');
  // Whatever fails, the server must stop, or the process would never exit.
  let running: StartedServer | undefined;
  let client: EtcdClient | undefined;
  try {
    say(`strata demo: a one-member cluster in ${dir}`);
    const start = async (): Promise<StartedServer> => {
      const { config } = resolveServerConfig(
        {
          name: 'demo',
          'data-dir': join(dir, 'demo.etcd'),
          'listen-client-urls': 'http://127.0.0.1:0',
          'advertise-client-urls': 'http://127.0.0.1:2379',
          // Port 0: the lone member needs no peer port, and 2380 may belong to a running etcd.
          'listen-peer-urls': 'http://127.0.0.1:0',
          'initial-advertise-peer-urls': 'http://127.0.0.1:2380',
        },
        {},
      );
      return EtcdServer.start(config, logger);
    };

    let started = await start();
    running = started;
    const endpoint = started.clientUrls[0]!;
    say(`  member ${formatId(started.server.memberId)} of cluster ${formatId(started.server.clusterId)} serving at ${endpoint}`);
    client = new EtcdClient({ endpoints: [endpoint] });
    const t0 = performance.now();
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < keys; i++) {
      writes.push(client.put({ key: `/demo/key-${String(i).padStart(6, '0')}`, value: `value-${i}` }));
    }
    await Promise.all(writes);
    const seconds = (performance.now() - t0) / 1000;
    const lease = await client.leaseGrant(60);
    await client.put({ key: '/demo/leased', value: 'lives as long as its lease', lease: lease.ID });
    await client.deleteRange({ key: '/demo/key-000000' });
    const before = await client.range({ key: '/demo/', range_end: '/demo0' });
    const hashBefore = await client.hashKV();
    say(`  wrote ${keys} keys concurrently in ${seconds.toFixed(2)} s (${Math.round(keys / seconds)} puts/s), a leased key, a delete`);
    say(`  read back ${before.count} keys at revision ${before.header?.revision}; hashkv ${hashBefore.hash}`);

    mkdirSync(join(dir, 'snapshots'));
    const api = client;
    const store = await openStore(join(dir, 'snapshots') + '/', { logger });
    try {
      const saved = await saveSnapshot(
        store,
        async () => liveArchive(await pickMember(api, logger), { toolVersion: toolVersion(), endpoints: [endpoint], logger }),
        { logger },
      );
      say(`  saved a snapshot: ${saved.location} (revision ${saved.manifest.revision}, ${saved.trailer.keyCount} keys, ${saved.bytes} bytes)`);
      const checked = await openStore(saved.location, { logger });
      try {
        const report = await verifySnapshot(checked);
        const against = await compareWithCluster(client, report.status);
        say(`  verified it: ${[...report.checks, against].join(', ')}`);
      } finally {
        closeStore(checked);
      }
    } finally {
      closeStore(store);
    }
    client.close();
    await started.server.stop();
    say('  stopped the server');

    running = undefined;
    started = await start();
    running = started;
    client = new EtcdClient({ endpoints: [started.clientUrls[0]!] });
    const after = await client.range({ key: '/demo/', range_end: '/demo0' });
    const hashAfter = await client.hashKV();
    const ttl = await client.leaseTimeToLive(lease.ID, true);
    const same =
      after.count === before.count &&
      after.header?.revision === before.header?.revision &&
      hashAfter.hash === hashBefore.hash &&
      after.kvs.every((kv, i) => kv.value.equals(before.kvs[i]!.value));
    say(`  restarted on the same data dir: ${after.count} keys at revision ${after.header?.revision}; hashkv ${hashAfter.hash}; lease ${formatId(BigInt(lease.ID))} alive with ${ttl.TTL}s left, ${ttl.keys.length} key`);
    client.close();
    running = undefined;
    await started.server.stop();
    if (!same) throw new Error('the data read after the restart differs from what was written');
    say('demo passed: the snapshot verified against the cluster, and every write survived the restart with the same revisions and hash');
  } finally {
    client?.close();
    await running?.server.stop();
    if (options.keep) say(`  kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
