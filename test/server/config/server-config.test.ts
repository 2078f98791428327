import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveServerConfig } from '../../../src/server/config/server-config.js';
import { UsageError } from '../../../src/util/errors.js';

test("no flags give etcd's defaults", () => {
  const { config } = resolveServerConfig({}, {});
  assert.equal(config.name, 'default');
  assert.equal(config.dataDir, 'default.etcd');
  assert.deepEqual(config.listenClientUrls.map(String), ['http://localhost:2379/']);
  assert.deepEqual([...config.initialCluster], [['default', ['http://localhost:2380']]]);
  assert.equal(config.initialClusterToken, 'etcd-cluster');
  assert.equal(config.snapshotCount, 100000);
  assert.equal(config.snapshotCatchUpEntries, 5000);
  assert.equal(config.strictReconfigCheck, true);
  assert.equal(config.heartbeatMs, 100);
  assert.equal(config.electionMs, 1000);
  assert.equal(config.quotaBackendBytes, 2 * 1024 ** 3);
  assert.equal(config.autoCompaction, undefined);
});

test('ETCD_* variables configure the server and flags shadow them', () => {
  const env = {
    ETCD_NAME: 'etcd1',
    ETCD_DATA_DIR: '/var/lib/etcd',
    ETCD_INITIAL_ADVERTISE_PEER_URLS: 'https://10.0.0.1:2380',
    ETCD_LISTEN_PEER_URLS: 'http://10.0.0.1:2380',
    ETCD_INITIAL_CLUSTER: 'etcd1=https://10.0.0.1:2380,etcd2=https://10.0.0.2:2380,etcd3=https://10.0.0.3:2380',
    ETCD_SNAPSHOT_COUNT: '5000',
    ETCD_AUTO_COMPACTION_RETENTION: '1',
    ETCD_SOMETHING_NEW: 'x',
  };
  const { config, notes } = resolveServerConfig({ 'snapshot-count': '42' }, env);
  assert.equal(config.name, 'etcd1');
  assert.equal(config.dataDir, '/var/lib/etcd');
  assert.equal(config.initialCluster.size, 3);
  assert.equal(config.snapshotCount, 42);
  assert.deepEqual(config.autoCompaction, { mode: 'periodic', retentionMs: 3_600_000 });
  assert.ok(notes.some((n) => n.includes('--snapshot-count shadows environment variable ETCD_SNAPSHOT_COUNT')));
  assert.ok(notes.some((n) => n.includes('unrecognized environment variable ETCD_SOMETHING_NEW')));
});

test('a renamed member without --initial-cluster forms a cluster of itself', () => {
  const { config } = resolveServerConfig({ name: 'infra0', 'initial-advertise-peer-urls': 'http://127.0.0.1:12380' }, {});
  assert.deepEqual([...config.initialCluster], [['infra0', ['http://127.0.0.1:12380']]]);
  assert.equal(config.dataDir, 'infra0.etcd');
});

test('bad values are usage errors that name the flag', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ 'election-timeout': '300' }, /--election-timeout 300: it must be at least 5 times --heartbeat-interval/],
    [{ 'snapshot-count': 'many' }, /--snapshot-count 'many': expected a whole number/],
    [{ 'listen-client-urls': 'localhost:2379' }, /Invalid URL 'localhost:2379' in --listen-client-urls/],
    [{ 'listen-client-urls': 'http://example.com:2379' }, /expected an IP address/],
    [{ 'listen-client-urls': 'https://127.0.0.1:2379' }, /uses https: give --cert-file and --key-file/],
    [{ 'initial-cluster': 'other=http://localhost:2380' }, /no member named 'default'/],
    [{ 'initial-cluster-state': 'old' }, /expected 'new' or 'existing'/],
    [{ 'cert-file': 'a.pem' }, /needs both --cert-file and --key-file/],
    [{ 'client-cert-auth': 'true', 'cert-file': 'a', 'key-file': 'b' }, /needs --trusted-ca-file/],
    [{ 'log-level': 'loud' }, /--log-level 'loud'/],
    [{ 'auto-compaction-retention': 'soon' }, /--auto-compaction-retention 'soon'/],
  ];
  for (const [flags, message] of cases) {
    assert.throws(() => resolveServerConfig(flags, {}), (err: unknown) => err instanceof UsageError && message.test(err.message), JSON.stringify(flags));
  }
});

test('--experimental-snapshot-catchup-entries and --strict-reconfig-check take etcd\'s forms', () => {
  const { config } = resolveServerConfig({ 'experimental-snapshot-catchup-entries': '5', 'strict-reconfig-check': 'false' }, {});
  assert.equal(config.snapshotCatchUpEntries, 5);
  assert.equal(config.strictReconfigCheck, false);
  assert.throws(() => resolveServerConfig({ 'experimental-snapshot-catchup-entries': '0' }, {}), /must be at least 1/);
});
