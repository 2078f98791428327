// `strata snapshot save` against etcdctl on one data set in Debian's etcd, one run:
//   npm run build && node dist/bench/snapshot-vs-etcdctl.js [GiB=1 [--rounds N=3]]   (e.g. 0.3 for a quick iteration)
// (a) to a file: strata save vs `etcdctl snapshot save` (time and size ratios), and the peak RSS
//     of strata save and verify, measured through bin/strata as child processes;
// (b) to S3 (s3rver on 127.0.0.1): strata save s3://… vs the usual script: `etcdctl snapshot
//     save`, then `zstd`, then a multipart upload.
// Goals (issue 3): (a) time <= 1.5x, size <= 0.5x etcdctl's, peak RSS < 200 MiB; (b) strata faster.
// (a) runs in rounds (default 3, `--rounds N` after the size), etcdctl then strata, then strata
// then etcdctl, and so on: this machine's speed drifts by a factor of two over minutes, and a
// round times both under about the same drift. The time verdict is the median of the rounds'
// ratios; every round is printed.
import { rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdClient } from '../src/client/client.js';
import { startEtcd } from '../test/support/etcd.js';
import { buildRoot, strataBin } from '../test/support/process.js';
import { startS3rver, s3rverCredentials } from '../test/support/s3rver.js';
import { tempDir } from '../test/support/tmp.js';
import { parseOptions } from './load/options.js';
import { median } from './load/percentiles.js';
import { runBench, type Cleanup } from './load/run-bench.js';
import { DATA_SET_SEED, loadObjects } from './support/k8s-objects.js';
import { measure, type Measured, type MeasureOptions } from './support/measure.js';

const MiB = 2 ** 20;
const RSS_GOAL_MIB = 200;

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
const secs = (s: number): string => `${s.toFixed(1)} s`;
const verdict = (ok: boolean): string => (ok ? 'goal met' : 'GOAL MISSED');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

runBench(async (cleanup: Cleanup) => {
  const gib = Number(process.argv[2] ?? 1);
  const { rounds } = parseOptions(process.argv.slice(3), { rounds: 3 });
  if (!(gib > 0) || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`usage: snapshot-vs-etcdctl [GiB=1 [--rounds N=3]], got '${process.argv.slice(2).join(' ')}'`);
  }
  const target = Math.round(gib * 1024 * MiB);
  const dir = tempDir('snapshot-bench');
  cleanup.add(() => dir.remove());
  const after = (fn: () => unknown): void => void cleanup.add(async () => void (await fn()));
  const childOptions = (extra: MeasureOptions = {}): MeasureOptions => ({ ...extra, onChild: (kill) => cleanup.add(kill) });
  const strata = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> =>
    measure(process.execPath, [strataBin, ...args], childOptions({ rss: true, env: { STRATA_DIST: buildRoot, ...env } }));
  const run = (command: string, args: string[]): Promise<Measured> => measure(command, args, childOptions());

  const etcd = await startEtcd({ name: 'bench', dataDir: join(dir.path, 'etcd'), extraArgs: ['--quota-backend-bytes', String(16 * 1024 * MiB)] });
  cleanup.add(() => etcd.stop());
  const client = new EtcdClient({ endpoints: [etcd.endpoint], requestTimeoutMs: 60_000 });
  cleanup.add(() => client.close());

  // Other work on the machine moves every number here; say how busy it was.
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
  say(`${availableParallelism()} cores, load average ${load()}`);
  say(`Loading ${mib(target)} of values into Debian etcd ${etcd.endpoint}: Kubernetes-like JSON objects of 2-6 KiB`);
  say(`(config text from a small vocabulary plus random uids and base64 certificates; seed ${DATA_SET_SEED}), 8 puts per txn, 32 txns in flight`);
  let reported = 0;
  const loaded = await loadObjects(client, {
    seed: DATA_SET_SEED,
    targetBytes: target,
    onProgress: (bytes) => {
      if (bytes - reported < target / 10) return;
      reported = bytes;
      say(`  ${mib(bytes)}`);
    },
  });
  const status = await client.status();
  const dbSize = Number(status.dbSize ?? 0);
  say(
    `Loaded ${loaded.objects} objects (${mib(loaded.valueBytes)} of values, ${mib(loaded.keyBytes)} of keys) in ${secs(loaded.seconds)}; ` +
      `etcd db ${mib(dbSize)}, revision ${status.header?.revision}`,
  );

  // (a) to a file
  const etcdctlFile = join(dir.path, 'etcdctl.db');
  const strataFile = join(dir.path, 'strata.tar.zst');
  const saves: Array<{ etcdctl: Measured; strata: Measured }> = [];
  for (let round = 1; round <= rounds; round++) {
    rmSync(etcdctlFile, { force: true });
    rmSync(strataFile, { force: true });
    rmSync(`${strataFile}.sha256`, { force: true });
    const saveEtcdctl = (): Promise<Measured> => run('etcdctl', ['--endpoints', etcd.endpoint, 'snapshot', 'save', etcdctlFile]);
    const saveStrata = (): Promise<Measured> => strata(['snapshot', 'save', strataFile, '--endpoints', etcd.endpoint, '--json']);
    const etcdctlFirst = round % 2 === 1;
    const first = await (etcdctlFirst ? saveEtcdctl() : saveStrata());
    const second = await (etcdctlFirst ? saveStrata() : saveEtcdctl());
    const measured = etcdctlFirst ? { etcdctl: first, strata: second } : { strata: first, etcdctl: second };
    saves.push(measured);
    const ratio = measured.strata.seconds / measured.etcdctl.seconds;
    say(`(a) round ${round} (${etcdctlFirst ? 'etcdctl' : 'strata'} first): strata ${secs(measured.strata.seconds)}, etcdctl ${secs(measured.etcdctl.seconds)}: ${ratio.toFixed(2)}x`);
  }
  const strataSave = saves.at(-1)!.strata;
  const strataVerify = await strata(['snapshot', 'verify', strataFile]);
  const etcdctlBytes = statSync(etcdctlFile).size;
  const strataBytes = statSync(strataFile).size;

  // (b) to S3
  const s3 = await startS3rver({ after }, ['bench']);
  const s3env = { ...s3rverCredentials, AWS_REGION: 'us-east-1' };
  const strataS3 = await strata(['snapshot', 'save', 's3://bench/strata/', '--endpoints', etcd.endpoint, '--s3-endpoint', s3.endpoint, '--json'], s3env);
  const scriptFile = join(dir.path, 'script.db');
  const scriptSave = await run('etcdctl', ['--endpoints', etcd.endpoint, 'snapshot', 'save', scriptFile]);
  const scriptZstd = await run('zstd', ['-q', '-f', scriptFile, '-o', `${scriptFile}.zst`]);
  const uploader = fileURLToPath(new URL('./support/s3-upload.js', import.meta.url));
  const scriptUpload = await measure(process.execPath, [uploader, `${scriptFile}.zst`, 'bench', 'script/etcd.db.zst', s3.endpoint], childOptions({ env: s3env }));
  const scriptSeconds = scriptSave.seconds + scriptZstd.seconds + scriptUpload.seconds;
  const zstdBytes = statSync(`${scriptFile}.zst`).size;

  const timeRatios = saves.map((r) => r.strata.seconds / r.etcdctl.seconds);
  const timeRatio = median(timeRatios);
  const peakSaveRss = Math.max(...saves.map((r) => r.strata.maxRssMiB!));
  const sizeRatio = strataBytes / etcdctlBytes;
  const s3Ratio = strataS3.seconds / scriptSeconds;
  const rss = (m: Measured): string => `${m.maxRssMiB!.toFixed(0)} MiB`;
  say('');
  say(
    table([
      ['step', 'strata', 'etcdctl / script', 'ratio', 'goal', 'result'],
      [
        `(a) save to a file: time, median of ${rounds}`,
        secs(median(saves.map((r) => r.strata.seconds))),
        secs(median(saves.map((r) => r.etcdctl.seconds))),
        `${timeRatio.toFixed(2)}x (rounds ${timeRatios.map((r) => r.toFixed(2)).join(', ')})`,
        '<= 1.5x',
        verdict(timeRatio <= 1.5),
      ],
      ['(a) save: CPU (user+sys), median', secs(median(saves.map((r) => r.strata.cpuSeconds!))), '-', '-', '-', '-'],
      ['(a) save to a file: size', mib(strataBytes), mib(etcdctlBytes), `${sizeRatio.toFixed(2)}x`, '<= 0.5x', verdict(sizeRatio <= 0.5)],
      ['(a) save: peak RSS, highest round', `${peakSaveRss.toFixed(0)} MiB`, '-', '-', `< ${RSS_GOAL_MIB} MiB`, verdict(peakSaveRss < RSS_GOAL_MIB)],
      ['(a) verify: time, CPU, peak RSS', `${secs(strataVerify.seconds)}, ${secs(strataVerify.cpuSeconds!)}, ${rss(strataVerify)}`, '-', '-', `< ${RSS_GOAL_MIB} MiB`, verdict(strataVerify.maxRssMiB! < RSS_GOAL_MIB)],
      [
        '(b) save to S3: time',
        secs(strataS3.seconds),
        `${secs(scriptSeconds)} (save ${secs(scriptSave.seconds)} + zstd ${secs(scriptZstd.seconds)} + upload ${secs(scriptUpload.seconds)})`,
        `${s3Ratio.toFixed(2)}x`,
        '< 1x',
        verdict(s3Ratio < 1),
      ],
      ['(b) save to S3: CPU, peak RSS, object', `${secs(strataS3.cpuSeconds!)}, ${rss(strataS3)}, ${mib(strataBytes)}`, `-, ${mib(zstdBytes)} (zstd -3)`, '-', `< ${RSS_GOAL_MIB} MiB`, verdict(strataS3.maxRssMiB! < RSS_GOAL_MIB)],
    ]),
  );
  say('');
  say(`load average at the end: ${load()}`);
  say(`strata save summary: ${strataSave.stdout.trim()}`);
});
