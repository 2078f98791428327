import type { EtcdClient } from '../../client/client.js';
import { saveSnapshot } from '../../snapshot/save.js';
import { dataDirArchive } from '../../snapshot/sources/datadir-source.js';
import { liveArchive } from '../../snapshot/sources/live-source.js';
import { pickMember } from '../../snapshot/sources/pick-member.js';
import { rangeArchive } from '../../snapshot/sources/range-source.js';
import { closeStore, openStore } from '../../snapshot/stores/open-store.js';
import { UsageError } from '../../util/errors.js';
import { openClient } from '../flags/client-flags.js';
import { s3Options } from '../flags/s3-flags.js';
import { stderrLogger } from '../output/stderr-logger.js';
import { Progress } from '../progress.js';
import { toolVersion } from '../version.js';

/** `snapshot save <dest>` with the command's flags; `endpointsGiven`: --endpoints was on the command line. */
export async function runSnapshotSave(dest: string, opts: Record<string, unknown>, endpointsGiven: boolean): Promise<void> {
  const json = opts['json'] === true;
  const logger = stderrLogger();
  const level = opts['level'] as number | undefined;
  const dataDir = opts['dataDir'] as string | undefined;
  const method = String(opts['method']);
  const prefix = opts['prefix'] as string | undefined;
  if (prefix !== undefined && method !== 'range') throw new UsageError('--prefix needs --method range (Maintenance.Snapshot covers the whole keyspace)');
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
        client ??= await openClient(opts);
        const member = await pickMember(client, logger);
        const endpoints = client.endpoints;
        try {
          if (method === 'range') {
            // The archive's bytes start once every key is read and sorted: show the reading.
            let reading: Progress | undefined;
            const onPage = ({ keys, bytes, totalKeys }: { keys: number; bytes: number; totalKeys: number }): void => {
              reading ??= new Progress(process.stderr, `reading keys through Range from ${member.endpoint}`);
              reading.update(bytes, totalKeys > 0 ? keys / totalKeys : undefined);
              if (keys >= totalKeys) reading.done();
            };
            return await rangeArchive(member, { ...common, endpoints, onPage, ...(prefix !== undefined ? { prefix } : {}) });
          }
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
}
