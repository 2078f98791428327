import type { EtcdClient } from '../../client/client.js';
import { saveSnapshot } from '../../snapshot/save.js';
import type { ArchiveStream } from '../../snapshot/sources/archive-stream.js';
import { dataDirArchive } from '../../snapshot/sources/datadir-source.js';
import { liveArchive } from '../../snapshot/sources/live-source.js';
import { pickMember } from '../../snapshot/sources/pick-member.js';
import { rangeArchive } from '../../snapshot/sources/range-source.js';
import { closeStore, openStore } from '../../snapshot/stores/open-store.js';
import { UsageError } from '../../util/errors.js';
import { holdYoungGeneration } from '../../util/young-generation.js';
import { openClient } from '../flags/client-flags.js';
import { s3Options } from '../flags/s3-flags.js';
import { removeTemporaryFilesOnInterrupt } from '../interrupts.js';
import { stderrLogger } from '../output/stderr-logger.js';
import { Progress, withProgress } from '../progress.js';
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
  holdYoungGeneration();
  removeTemporaryFilesOnInterrupt();
  const store = await openStore(dest, { stdout: process.stdout, ...s3Options(opts, logger) });
  const common = { toolVersion: toolVersion(), logger, ...(level !== undefined ? { level } : {}) };
  let client: EtcdClient | undefined;
  const openSource = async (): Promise<ArchiveStream> => {
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
      return await withProgress(`receiving the snapshot of ${member.endpoint}`, (received) =>
        liveArchive(member, { ...common, endpoints, onReceived: (bytes, total) => received(bytes, total) }),
      );
    } catch (err) {
      member.client.close();
      throw err;
    }
  };
  try {
    const result = await withProgress(`saving to ${dest}`, (saved) =>
      saveSnapshot(store, openSource, { logger, onBytes: (bytes, fraction) => saved(bytes, undefined, fraction) }),
    );
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
    client?.close();
    closeStore(store);
  }
}
