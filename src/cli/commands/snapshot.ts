import { Option, type Command } from 'commander';
import { EtcdClient } from '../../client/client.js';
import { compareWithCluster } from '../../snapshot/against.js';
import { snapshotStatus, verifySnapshot, type SnapshotStatus } from '../../snapshot/inspect.js';
import { saveSnapshot } from '../../snapshot/save.js';
import { dataDirArchive } from '../../snapshot/sources/datadir-source.js';
import { liveArchive } from '../../snapshot/sources/live-source.js';
import { pickMember } from '../../snapshot/sources/pick-member.js';
import { rangeArchive } from '../../snapshot/sources/range-source.js';
import { closeStore, openStore, type OpenStoreOptions } from '../../snapshot/stores/open-store.js';
import type { SnapshotStore } from '../../snapshot/stores/store.js';
import { UsageError } from '../../util/errors.js';
import { createLogger, type Logger } from '../../util/log.js';
import { addClientFlags, clientOptionsFromFlags } from '../flags/client-flags.js';
import { renderTable } from '../output/table.js';
import { Progress } from '../progress.js';
import { action } from '../run-action.js';
import { toolVersion } from '../version.js';

/** Library log lines go to stderr as plain text (stdout may carry the archive or the JSON). */
function stderrLogger(quiet: boolean): Logger {
  return createLogger(
    {
      write: (line: string) => {
        if (quiet) return;
        const { msg, level } = JSON.parse(line) as { msg: string; level: string };
        process.stderr.write(`${level === 'info' ? '' : `${level}: `}${msg}\n`);
      },
    },
    'info',
  );
}

/** The S3 flags every snapshot command takes (the AWS credential chain does the rest). */
function addS3Flags(command: Command): Command {
  return command
    .addOption(new Option('--s3-endpoint <url>', 'an S3-compatible server (default AWS_ENDPOINT_URL_S3, then AWS)'))
    .addOption(new Option('--s3-force-path-style', 'address buckets as path segments (default with a custom endpoint)'))
    .addOption(new Option('--s3-region <region>', 'the bucket\'s region (default AWS_REGION)'));
}

function s3Options(opts: Record<string, unknown>, logger?: Logger): OpenStoreOptions {
  const endpoint = opts['s3Endpoint'] as string | undefined;
  const region = opts['s3Region'] as string | undefined;
  return {
    ...(logger !== undefined ? { logger } : {}),
    s3: {
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(region !== undefined ? { region } : {}),
      ...(opts['s3ForcePathStyle'] === true ? { forcePathStyle: true } : {}),
    },
  };
}

/** Opens the store, runs `fn`, releases the store. */
async function withStore<T>(location: string, options: OpenStoreOptions, fn: (store: SnapshotStore) => Promise<T>): Promise<T> {
  const store = await openStore(location, options);
  try {
    return await fn(store);
  } finally {
    closeStore(store);
  }
}

function parseLevel(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`Invalid --level '${text}': use a zstd level from 1 to 19`);
  return n;
}

function writeFormat(opts: Record<string, unknown>): 'table' | 'json' {
  const format = String(opts['writeOut']);
  if (format !== 'table' && format !== 'json') throw new UsageError(`Invalid --write-out '${format}': expected table or json`);
  return format;
}

function printStatus(status: SnapshotStatus, format: 'table' | 'json'): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(status)}\n`);
    return;
  }
  const header = ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE', 'COMPACT REVISION', 'HASHKV', 'CLUSTER ID', 'CREATED', 'FORMAT'];
  const row = [
    status.hash.toString(16).padStart(8, '0'),
    String(status.revision),
    String(status.totalKey),
    String(status.totalSize),
    String(status.compactRevision),
    status.hashKV === null ? '-' : String(status.hashKV),
    status.clusterId ?? '-',
    status.createdAt ?? '-',
    status.format,
  ];
  process.stdout.write(renderTable(header, [row]));
}

export function registerSnapshotCommands(program: Command): void {
  const snapshot = program.command('snapshot').description('save, verify, inspect and list snapshots');

  addClientFlags(
    addS3Flags(snapshot
      .command('save <dest>'))
      .description('save a snapshot of a cluster (--endpoints) or of a bundled data dir (--data-dir) to a path, file://, s3:// or - (stdout); a directory or a trailing / names the file itself')
      .option('--data-dir <dir>', 'read a bundled server\'s data dir instead of the API (read-only; the server may run)')
      .addOption(new Option('--method <method>', 'snapshot: Maintenance.Snapshot; range: a logical read through Range (no admin right, --prefix)').choices(['snapshot', 'range']).default('snapshot'))
      .option('--prefix <prefix>', 'with --method range: only keys under this prefix')
      .option('--level <n>', 'zstd level 1..19 (default 1)', parseLevel)
      .option('--json', 'print one JSON summary line at the end'),
  ).action(
    action(async (dest: string, opts: Record<string, unknown>, cmd: Command) => {
      const json = opts['json'] === true;
      const logger = stderrLogger(false);
      const level = opts['level'] as number | undefined;
      const dataDir = opts['dataDir'] as string | undefined;
      const method = String(opts['method']);
      const prefix = opts['prefix'] as string | undefined;
      if (prefix !== undefined && method !== 'range') throw new UsageError('--prefix needs --method range (Maintenance.Snapshot covers the whole keyspace)');
      const endpointsGiven = cmd.getOptionValueSource('endpoints') === 'cli';
      if (dataDir !== undefined && endpointsGiven) throw new UsageError('Give either --endpoints or --data-dir, not both');
      const store = await openStore(dest, { stdout: process.stdout, ...s3Options(opts, logger) });
      // Created at the first byte, so that rate and ETA count from there and not from the connect.
      let progress: Progress | undefined;
      const common = { toolVersion: toolVersion(), logger, ...(level !== undefined ? { level } : {}) };
      let client: EtcdClient | undefined;
      try {
        const result = await saveSnapshot(
          store,
          async () => {
            if (dataDir !== undefined) return dataDirArchive(dataDir, common);
            client ??= new EtcdClient(clientOptionsFromFlags(opts));
            const member = await pickMember(client, logger);
            const endpoints = client.endpoints;
            try {
              if (method === 'range') return await rangeArchive(member, { ...common, endpoints, ...(prefix !== undefined ? { prefix } : {}) });
              let receiving: Progress | undefined;
              const onReceived = (bytes: number, total: number | undefined): void =>
                (receiving ??= new Progress(process.stderr, `receiving the snapshot of ${member.endpoint}`, total)).update(bytes);
              try {
                return await liveArchive(member, { ...common, endpoints, onReceived });
              } finally {
                receiving?.done();
              }
            } catch (err) {
              member.client.close();
              throw err;
            }
          },
          { logger, onBytes: (bytes, fraction) => (progress ??= new Progress(process.stderr, `saving to ${dest}`)).update(bytes, fraction) },
        );
        progress?.done();
        const summary = {
          location: result.location,
          revision: result.manifest.revision,
          compactRevision: result.manifest.compactRevision,
          totalKey: result.trailer.keyCount,
          records: result.trailer.recordCount,
          leases: result.trailer.leaseCount,
          historyHash: result.trailer.hashKV?.hash ?? null,
          totalSize: result.bytes,
          sha256: result.sha256,
          source: result.manifest.source.kind,
          endpoint: result.manifest.source.endpoint ?? null,
          clusterId: result.manifest.source.clusterId,
        };
        // With `-` stdout carries the archive: the summary goes to stderr.
        if (json) (dest === '-' ? process.stderr : process.stdout).write(`${JSON.stringify(summary)}\n`);
        else if (dest !== '-') {
          process.stdout.write(`Snapshot saved at ${result.location} (revision ${summary.revision}, ${summary.totalKey} keys, ${summary.totalSize} bytes)\n`);
        } else {
          logger.info(`Snapshot written to stdout (revision ${summary.revision}, ${summary.totalKey} keys, ${summary.totalSize} bytes, sha256 ${result.sha256})`);
        }
      } finally {
        progress?.done();
        client?.close();
        closeStore(store);
      }
    }),
  );

  addClientFlags(
    addS3Flags(snapshot
      .command('verify <src>'))
      .description('check a snapshot (a Strata archive or an etcd snapshot.db) completely; exit 3 when any check fails')
      .option('--against <urls>', 'also compare its hash with the live cluster\'s HashKV at the snapshot revision')
      .option('--json', 'print one JSON summary line'),
  ).action(
    action(async (src: string, opts: Record<string, unknown>) => {
      const report = await withStore(src, { stdin: process.stdin, ...s3Options(opts) }, verifySnapshot);
      const checks = [...report.checks];
      const against = opts['against'] as string | undefined;
      if (against !== undefined) {
        const client = new EtcdClient(clientOptionsFromFlags({ ...opts, endpoints: against }));
        try {
          checks.push(await compareWithCluster(client, report.status));
        } finally {
          client.close();
        }
      }
      if (opts['json'] === true) process.stdout.write(`${JSON.stringify({ ok: true, ...report.status, checks })}\n`);
      else process.stdout.write(`Snapshot ${src} is intact (revision ${report.status.revision}, ${report.status.totalKey} keys): ${checks.join(', ')}\n`);
    }),
  );

  addS3Flags(snapshot.command('status <src>'))
    .description('show a snapshot\'s revision, key count, size and hashes (reads to the trailer, or through the records of a compacted history for etcd\'s HashKV)')
    .addOption(new Option('-w, --write-out <format>', 'table or json').default('table'))
    .action(
      action(async (src: string, opts: Record<string, unknown>) => {
        const format = writeFormat(opts);
        printStatus(await withStore(src, { stdin: process.stdin, ...s3Options(opts) }, snapshotStatus), format);
      }),
    );

  addS3Flags(snapshot.command('ls <store>'))
    .description('list the snapshots in a directory or s3:// prefix, newest first')
    .addOption(new Option('-w, --write-out <format>', 'table or json').default('table'))
    .action(
      action(async (location: string, opts: Record<string, unknown>) => {
        const format = writeFormat(opts);
        const items = await withStore(location.endsWith('/') ? location : `${location}/`, s3Options(opts), (store) => store.list());
        if (format === 'json') {
          process.stdout.write(`${JSON.stringify(items.map((i) => ({ ...i, modified: i.modified.toISOString() })))}\n`);
          return;
        }
        const rows = items.map((i) => [i.name, String(i.size), i.modified.toISOString(), i.sha256 ?? '-']);
        process.stdout.write(renderTable(['NAME', 'SIZE', 'MODIFIED', 'SHA256'], rows));
      }),
    );
}
