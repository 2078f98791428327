import { Command } from 'commander';
import { StrataError, UsageError } from '../../util/errors.js';
import { addClientFlags, withClient } from '../flags/client-flags.js';
import { addOutputFlags, outputFromFlags } from '../flags/output-flags.js';
import { printWatch } from '../output/kv-printers.js';
import { action } from '../run-action.js';
import { keyRange } from './kv.js';

type Opts = Record<string, unknown>;

export function registerWatchCommand(program: Command): void {
  const watch = addOutputFlags(addClientFlags(program.command('watch').description('Watches events stream on keys or prefixes')))
    .argument('<key>', 'the key (or the start of the range)')
    .argument('[range_end]', 'end of the range [key, range_end)')
    .option('--prefix', 'watch on a prefix if prefix is set')
    .option('--rev <revision>', 'revision to start watching', '0')
    .option('--prev-kv', 'get the previous key-value pair before the event happens')
    .option('--progress-notify', 'get periodic watch progress notification from server');
  watch.action(
    action(async (key: string, rangeEnd: string | undefined, opts: Opts) => {
      const output = outputFromFlags(opts, ['simple', 'json', 'fields']);
      const range = keyRange(key, rangeEnd, opts, 'watch');
      const rev = String(opts['rev']);
      if (!/^\d+$/.test(rev)) throw new UsageError(`Invalid --rev '${rev}': expected a revision number`);
      await withClient(opts, (client) => {
        const stream = client.watchStream();
        const w = stream.watch({
          ...range,
          start_revision: rev,
          prev_kv: opts['prevKv'] === true,
          progress_notify: opts['progressNotify'] === true,
        });
        return new Promise<void>((resolve, reject) => {
          const finish = (err?: Error): void => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
            stream.close();
            if (err) reject(err);
            else resolve();
          };
          const onSignal = (): void => finish();
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
          w.on('events', (_events, response) => process.stdout.write(printWatch(response, output)));
          w.on('progress', (revision) => process.stdout.write(`progress notify: ${revision}\n`));
          w.on('error', (err) => finish(err));
          w.on('canceled', (cancel) => {
            const reason = cancel.compactRevision > 0n ? 'etcdserver: mvcc: required revision has been compacted' : cancel.reason;
            process.stderr.write(`watch was canceled (${reason})\n`);
            finish(new StrataError('ETCD_WATCH_CANCELED', 'watch is canceled by the server'));
          });
        });
      });
    }),
  );
}
