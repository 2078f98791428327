import { Option, type Command } from 'commander';
import { UsageError } from '../../util/errors.js';

export type OutputFormat = 'simple' | 'json' | 'table' | 'fields';
const formats: readonly OutputFormat[] = ['simple', 'json', 'table', 'fields'];

export interface OutputSettings {
  readonly format: OutputFormat;
  /** Print keys and values as \xNN hex (simple format), like etcdctl --hex. */
  readonly hex: boolean;
}

/** etcdctl's -w/--write-out and --hex (also from ETCDCTL_WRITE_OUT and ETCDCTL_HEX). */
export function addOutputFlags(command: Command): Command {
  return command
    .addOption(new Option('-w, --write-out <format>', `set the output format (${formats.join(', ')})`).default('simple').env('ETCDCTL_WRITE_OUT'))
    .addOption(new Option('--hex', 'print byte strings as hex encoded strings').default(false).env('ETCDCTL_HEX'));
}

export function outputFromFlags(opts: Record<string, unknown>, supported: readonly OutputFormat[] = formats): OutputSettings {
  const format = String(opts['writeOut']);
  if (!(formats as readonly string[]).includes(format)) {
    throw new UsageError(`Invalid --write-out '${format}': expected one of ${formats.join(', ')}`);
  }
  if (!(supported as readonly string[]).includes(format)) throw new UsageError(`${format} not supported as output format`);
  return { format: format as OutputFormat, hex: opts['hex'] === true || opts['hex'] === 'true' };
}
