// Must show (issue 2): Debian's etcdctl 3.4 runs every one-member command of the reference notes
// against Debian's etcd and against `strata server`, plain and over mutual TLS, and the outputs
// agree once the values that legitimately differ (IDs, ports, terms, sizes, timings) are masked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeCerts,
  missingBinary,
  runEtcdctl,
  startEtcd,
  startEtcdctl,
  tempDir,
  type TestCerts,
} from '../support/index.js';
import { startStrataServer } from './strata-server.js';

interface Target {
  endpoint: string;
  flags: string[];
  stop(): Promise<void>;
}

const memberName = 'infra0';

async function startTarget(kind: 'etcd' | 'strata', certs: TestCerts | undefined, dir: string): Promise<Target> {
  const tlsServerFlags = certs
    ? ['--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.ca, '--client-cert-auth']
    : [];
  const tlsClientFlags = certs ? [`--cacert=${certs.ca}`, `--cert=${certs.clientCert}`, `--key=${certs.clientKey}`] : [];
  // As the reference notes: plain endpoints as host:port, TLS ones as https:// URLs. (etcdctl 3.4's
  // endpoint commands send an http:// endpoint verbatim as the HTTP/2 :authority, which Node's
  // HTTP/2 layer rejects; see the README's known limitations.)
  const endpointOf = (url: string): string => (certs ? url : url.replace(/^http:\/\//, ''));
  if (kind === 'etcd') {
    const etcd = await startEtcd({ name: memberName, ...(certs ? { tls: certs } : {}) });
    return { endpoint: etcd.clientUrl, flags: [`--endpoints=${endpointOf(etcd.clientUrl)}`, ...tlsClientFlags], stop: () => etcd.stop() };
  }
  const strata = await startStrataServer({ dataDir: `${dir}/strata.etcd`, name: memberName, tls: certs !== undefined, extraArgs: tlsServerFlags });
  return {
    endpoint: strata.clientUrl,
    flags: [`--endpoints=${endpointOf(strata.clientUrl)}`, ...tlsClientFlags],
    stop: async () => {
      assert.equal(await strata.stop(), 0, 'strata server exits 0 on SIGTERM');
    },
  };
}

/** Masks what differs between two healthy one-member clusters that saw the same requests. */
function normalise(text: string): string {
  return text
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
    .replace(/\b[0-9a-f]{12,16}\b/g, 'ID')
    .replace(/"(cluster_id|member_id|raft_term)":\d+/g, '"$1":N')
    .replace(/"(ClusterID|MemberID|RaftTerm)" : \d+/g, '"$1" : N')
    .replace(/took = [\d.]+[µmn]?s/g, 'took = T');
}

/**
 * etcdctl's table as rows of trimmed cells, with the given columns masked: the borders' widths
 * follow the cell contents (an ID printed with 15 hex digits instead of 16 narrows a column).
 */
function tableCells(text: string, masked: readonly string[]): string {
  const rows = text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
  const header = rows[0] ?? [];
  return JSON.stringify(rows.map((row, r) => (r === 0 ? row : row.map((cell, c) => (masked.includes(header[c] ?? '') ? '*' : cell)))));
}

async function transcript(target: Target): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  /** Runs etcdctl; its normalised output joins the transcript under `name` unless name is ''. */
  const ctl = async (name: string, ...args: string[]): Promise<string> => {
    const result = await runEtcdctl([...target.flags, ...args]);
    assert.equal(result.code, 0, `etcdctl ${args.join(' ')} failed against ${target.endpoint}: ${result.stderr}`);
    if (name !== '') out[name] = normalise(result.stdout);
    return result.stdout;
  };
  await ctl('member list', 'member', 'list');
  out['member list -w table'] = tableCells(normalise(await ctl('', 'member', 'list', '-w', 'table')), ['ID']);
  out['endpoint status -w table'] = tableCells(
    await ctl('', 'endpoint', 'status', '-w', 'table'),
    ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX'],
  );
  await ctl('endpoint health', 'endpoint', 'health');
  await ctl('put test1', 'put', 'test1', 'a');
  await ctl('put test2', 'put', 'test2', 'b');
  await ctl('put test3', 'put', 'test3', 'c');
  await ctl('get --prefix test', 'get', '--prefix', 'test');
  await ctl('put a1', 'put', '/json/user/a1', '12');
  await ctl('put a2', 'put', '/json/user/a2', '13');
  await ctl('get --prefix -w fields', 'get', '/json/user', '--prefix', '-w=fields');
  await ctl('get -w json', 'get', '/json/user/a1', '-w=json');
  await ctl('get --prefix -w json', 'get', '/json', '--prefix', '-w=json');

  // Watches start at the next revision so that no event can slip in before the watch is set up.
  const next = async (): Promise<string> => {
    const status = await runEtcdctl([...target.flags, 'endpoint', 'status', '-w', 'json']);
    const parsed = JSON.parse(status.stdout) as Array<{ Status: { header: { revision: number } } }>;
    return String(parsed[0]!.Status.header.revision + 1);
  };
  const watch = startEtcdctl([...target.flags, 'watch', 'test', `--rev=${await next()}`], { timeoutMs: 60_000 });
  await ctl('put test', 'put', 'test', 'watched');
  await ctl('del test', 'del', 'test');
  await watch.waitFor((stdout) => stdout.includes('DELETE'), 15_000, 'the DELETE event');
  await watch.stop();
  out['watch test'] = watch.stdout;

  const watchPrefix = startEtcdctl([...target.flags, 'watch', '--prefix', '/json', `--rev=${await next()}`], { timeoutMs: 60_000 });
  await ctl('put a3', 'put', '/json/user/a3', '14');
  await ctl('del a1', 'del', '/json/user/a1');
  await watchPrefix.waitFor((stdout) => stdout.includes('DELETE'), 15_000, 'the DELETE event');
  await watchPrefix.stop();
  out['watch --prefix /json'] = watchPrefix.stdout;

  await ctl('del test1', 'del', 'test1');
  await ctl('del --prefix', 'del', '--prefix', '/json', '--prev-kv');
  await ctl('get --prefix test after del', 'get', '--prefix', 'test', '-w', 'json');
  // Same requests in the same order: the MVCC content hash must be bit for bit the same.
  await ctl('endpoint hashkv', 'endpoint', 'hashkv');
  return out;
}

for (const secure of [false, true]) {
  const mode = secure ? 'mutual TLS' : 'plain';
  test(`etcdctl gives the same answers from Debian etcd and strata server (${mode})`, { skip: missingBinary('etcd', 'etcdctl', 'openssl') }, async (t) => {
    const dir = tempDir('interop', t);
    const certs = secure ? makeCerts(dir.path) : undefined;
    const results: Record<string, Record<string, string>> = {};
    for (const kind of ['etcd', 'strata'] as const) {
      const target = await startTarget(kind, certs, dir.path);
      try {
        results[kind] = await transcript(target);
      } finally {
        await target.stop();
      }
    }
    const etcd = results['etcd']!;
    const strata = results['strata']!;
    assert.ok(etcd['get --prefix test']!.includes('test1\na\ntest2\nb\ntest3\nc'), etcd['get --prefix test']);
    assert.match(etcd['watch test']!, /PUT\ntest\nwatched\nDELETE\ntest\n/);
    for (const name of Object.keys(etcd)) {
      assert.equal(strata[name], etcd[name], `'${name}' differs between strata (actual) and etcd (expected)`);
    }
  });
}
