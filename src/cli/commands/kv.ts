import { Command } from 'commander';
import type { SortOrder, SortTarget } from '../../api/etcd-types.js';
import { fromKeyRangeEnd, prefixRangeEnd } from '../../client/keys.js';
import { UsageError } from '../../util/errors.js';
import { addClientFlags, withClient } from '../flags/client-flags.js';
import { addOutputFlags, outputFromFlags } from '../flags/output-flags.js';
import { printDelete, printGet, printPut } from '../output/kv-printers.js';
import { action } from '../run-action.js';

type Opts = Record<string, unknown>;

/**
 * The key range etcdctl's --prefix/--from-key select (clientv3's WithPrefix/WithFromKey):
 * an empty key with either means every key.
 */
export function keyRange(key: string, rangeEnd: string | undefined, opts: Opts, verb: string): { key: Buffer; range_end?: Buffer } {
  if (opts['prefix'] && opts['fromKey']) throw new UsageError('`--prefix` and `--from-key` cannot be set at the same time, choose one');
  if (rangeEnd !== undefined && (opts['prefix'] || opts['fromKey'])) {
    throw new UsageError(`too many arguments, only accept one argument when \`--${opts['prefix'] ? 'prefix' : 'from-key'}\` is set`);
  }
  const bytes = Buffer.from(key, 'utf8');
  if (opts['prefix']) return bytes.length === 0 ? { key: Buffer.from([0]), range_end: Buffer.from([0]) } : { key: bytes, range_end: prefixRangeEnd(bytes) };
  if (opts['fromKey']) return { key: bytes.length === 0 ? Buffer.from([0]) : bytes, range_end: fromKeyRangeEnd() };
  if (bytes.length === 0) throw new UsageError(`${verb} command needs a non-empty key`);
  return rangeEnd === undefined ? { key: bytes } : { key: bytes, range_end: Buffer.from(rangeEnd, 'utf8') };
}

const sortTargets: Record<string, SortTarget> = { CREATE: 'CREATE', KEY: 'KEY', MODIFY: 'MOD', VALUE: 'VALUE', VERSION: 'VERSION' };

function sortOf(opts: Opts): { sort_order: SortOrder; sort_target: SortTarget } {
  const order = String(opts['order'] ?? '').toUpperCase();
  const by = String(opts['sortBy'] ?? '').toUpperCase();
  if (order !== '' && order !== 'ASCEND' && order !== 'DESCEND') throw new UsageError(`bad sort order ${String(opts['order'])}; use ASCEND or DESCEND`);
  const target = by === '' ? 'KEY' : sortTargets[by];
  if (!target) throw new UsageError(`bad sort target ${String(opts['sortBy'])}; use CREATE, KEY, MODIFY, VALUE or VERSION`);
  // As clientv3: ascending by key is the server's natural order, so no sort is requested.
  const sortOrder: SortOrder = order === '' ? (by === '' ? 'NONE' : 'ASCEND') : (order as SortOrder);
  return { sort_order: target === 'KEY' && sortOrder === 'ASCEND' ? 'NONE' : sortOrder, sort_target: target };
}

function integer(flag: string, value: unknown): string {
  const text = String(value ?? '0');
  if (!/^\d+$/.test(text)) throw new UsageError(`Invalid ${flag} '${text}': expected a non-negative integer`);
  return text;
}

/** etcdctl takes lease IDs in hex. */
export function leaseId(text: unknown): string | undefined {
  if (text === undefined || text === '' || text === '0') return undefined;
  if (!/^[0-9a-fA-F]{1,16}$/.test(String(text))) throw new UsageError(`bad lease ID (${String(text)}), expecting ID in Hex`);
  return BigInt(`0x${String(text)}`).toString();
}

function clientCommand(program: Command, name: string, description: string): Command {
  return addOutputFlags(addClientFlags(program.command(name).description(description)));
}

export function registerKvCommands(program: Command): void {
  const get = clientCommand(program, 'get', 'Gets the key or a range of keys')
    .argument('<key>', 'the key (or the start of the range)')
    .argument('[range_end]', 'end of the range [key, range_end)')
    .option('--prefix', 'get keys with matching prefix')
    .option('--from-key', 'get keys that are greater than or equal to the given key using byte compare')
    .option('--limit <n>', 'maximum number of results', '0')
    .option('--rev <revision>', 'specify the kv revision', '0')
    .option('--sort-by <target>', 'sort target; CREATE, KEY, MODIFY, VALUE, or VERSION')
    .option('--order <order>', 'order of results; ASCEND or DESCEND (ASCEND by default)')
    .option('--keys-only', 'get only the keys')
    .option('--count-only', 'get only the count')
    .option('--print-value-only', 'only write values when using the "simple" output format')
    .option('--consistency <l|s>', 'linearizable (l) or serializable (s)', 'l');
  get.action(
    action(async (key: string, rangeEnd: string | undefined, opts: Opts) => {
      const output = outputFromFlags(opts, ['simple', 'json', 'fields']);
      const consistency = String(opts['consistency']);
      if (consistency !== 'l' && consistency !== 's') throw new UsageError(`unknown consistency flag '${consistency}'; use l or s`);
      if (opts['keysOnly'] && opts['countOnly']) throw new UsageError('`--keys-only` and `--count-only` cannot be set at the same time, choose one');
      const request = {
        ...keyRange(key, rangeEnd, opts, 'get'),
        ...sortOf(opts),
        limit: integer('--limit', opts['limit']),
        revision: integer('--rev', opts['rev']),
        serializable: consistency === 's',
        keys_only: opts['keysOnly'] === true,
        count_only: opts['countOnly'] === true,
      };
      const resp = await withClient(opts, (client) => client.range(request));
      process.stdout.write(printGet(resp, { ...output, valueOnly: opts['printValueOnly'] === true, countOnly: opts['countOnly'] === true }));
    }),
  );

  const put = clientCommand(program, 'put', 'Puts the given key into the store')
    .argument('<key>', 'the key')
    .argument('[value]', 'the value (read from stdin when absent)')
    .option('--lease <id>', 'lease ID (in hexadecimal) to attach to the key', '0')
    .option('--prev-kv', 'return the previous key-value pair before modification')
    .option('--ignore-value', 'updates the key using its current value')
    .option('--ignore-lease', 'updates the key using its current lease');
  put.action(
    action(async (key: string, value: string | undefined, opts: Opts) => {
      const output = outputFromFlags(opts, ['simple', 'json', 'fields']);
      const ignoreValue = opts['ignoreValue'] === true;
      if (ignoreValue && value !== undefined) throw new UsageError("put command needs only 1 argument when 'ignore-value' is set");
      const bytes = ignoreValue ? Buffer.alloc(0) : value !== undefined ? Buffer.from(value, 'utf8') : await readStdin();
      const lease = leaseId(opts['lease']);
      const resp = await withClient(opts, (client) =>
        client.put({
          key,
          value: bytes,
          ...(lease === undefined ? {} : { lease }),
          prev_kv: opts['prevKv'] === true,
          ignore_value: ignoreValue,
          ignore_lease: opts['ignoreLease'] === true,
        }),
      );
      process.stdout.write(printPut(resp, output));
    }),
  );

  const del = clientCommand(program, 'del', 'Removes the specified key or range of keys [key, range_end)')
    .argument('<key>', 'the key (or the start of the range)')
    .argument('[range_end]', 'end of the range [key, range_end)')
    .option('--prefix', 'delete keys with matching prefix')
    .option('--from-key', 'delete keys that are greater than or equal to the given key using byte compare')
    .option('--prev-kv', 'return deleted key-value pairs');
  del.action(
    action(async (key: string, rangeEnd: string | undefined, opts: Opts) => {
      const output = outputFromFlags(opts, ['simple', 'json', 'fields']);
      const request = { ...keyRange(key, rangeEnd, opts, 'del'), prev_kv: opts['prevKv'] === true };
      const resp = await withClient(opts, (client) => client.deleteRange(request));
      process.stdout.write(printDelete(resp, output));
    }),
  );
}

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) throw new UsageError('put command needs 1 argument and input from stdin or 2 arguments');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
