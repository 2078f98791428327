import { Option, type Command } from 'commander';
import { MAX_LEVEL, MIN_LEVEL } from '../../archive/index.js';
import type { SnapshotStatus } from '../../snapshot/inspect.js';
import { inspectInThread } from '../../snapshot/inspect-thread.js';
import { closeStore, openStore, type OpenStoreOptions } from '../../snapshot/stores/open-store.js';
import type { SnapshotStore } from '../../snapshot/stores/store.js';
import { UsageError } from '../../util/errors.js';
import { addClientFlags, openClient } from '../flags/client-flags.js';
import { removeTemporaryFilesOnInterrupt } from '../interrupts.js';
import { addS3Flags, s3Options } from '../flags/s3-flags.js';
import { renderTable } from '../output/table.js';
import { withProgress } from '../progress.js';
import { action } from '../run-action.js';

/** Opens the store, runs `fn`, releases the store. */
async function withStore<T>(location: string, options: OpenStoreOptions, fn: (store: SnapshotStore) => Promise<T>): Promise<T> {
  const store = await openStore(location, options);
  try {
    return await fn(store);
  } finally {
    closeStore(store);
  }
}

/** Checked here, not only by the archive writer: a save reaches the writer after the whole transfer. */
function parseLevel(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < MIN_LEVEL || n > MAX_LEVEL) {
    throw new UsageError(`Invalid --level '${text}': use a zstd level from ${MIN_LEVEL} to ${MAX_LEVEL}`);
  }
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
    action(async (dest: string, opts: Record<string, unknown>, cmd: Command) =>
      // Loaded on use: saving pulls in the client and every source.
      (await import('./snapshot-save.js')).runSnapshotSave(dest, opts, cmd.getOptionValueSource('endpoints') === 'cli'),
    ),
  );

  addClientFlags(
    addS3Flags(snapshot
      .command('verify <src>'))
      .description('check a snapshot (a Strata archive or an etcd snapshot.db) completely; exit 3 when any check fails')
      .option('--against <urls>', 'also compare its hash with the live cluster\'s HashKV at the snapshot revision')
      .option('--json', 'print one JSON summary line'),
  ).action(
    action(async (src: string, opts: Record<string, unknown>) => {
      removeTemporaryFilesOnInterrupt();
      const report = await withProgress(`verifying ${src}`, (onBytes) => inspectInThread('verify', src, { stdin: process.stdin, ...s3Options(opts) }, { onBytes }));
      const checks = [...report.checks];
      const against = opts['against'] as string | undefined;
      if (against !== undefined) {
        const { compareWithCluster } = await import('../../snapshot/against.js');
        const client = await openClient({ ...opts, endpoints: against });
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
        removeTemporaryFilesOnInterrupt();
        const status = await withProgress(`reading ${src}`, (onBytes) => inspectInThread('status', src, { stdin: process.stdin, ...s3Options(opts) }, { onBytes }));
        printStatus(status, format);
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
