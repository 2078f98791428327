import { Option, type Command } from 'commander';
import type { EtcdClient, EtcdClientOptions } from '../../client/client.js';
import { parseDuration } from '../../util/duration.js';
import { parseFlagBool, readFlagFile } from '../../util/flag-values.js';
import { UsageError } from '../../util/errors.js';

/**
 * etcdctl's client flags, each also read from its ETCDCTL_* variable (a flag on the
 * command line wins over the environment). Only names are ever echoed, never file contents.
 */
export function addClientFlags(command: Command): Command {
  const env = (option: Option, name: string): Option => option.env(`ETCDCTL_${name}`);
  return command
    .addOption(
      env(new Option('--endpoints <list>', 'gRPC endpoints, comma separated (host:port, http:// or https://)').default('127.0.0.1:2379'), 'ENDPOINTS'),
    )
    .addOption(env(new Option('--cacert <file>', 'verify certificates of TLS-enabled secure servers using this CA bundle'), 'CACERT'))
    .addOption(env(new Option('--cert <file>', 'identify secure client using this TLS certificate file'), 'CERT'))
    .addOption(env(new Option('--key <file>', 'identify secure client using this TLS key file'), 'KEY'))
    .addOption(
      env(
        new Option('--insecure-skip-tls-verify [bool]', 'skip server certificate verification (testing only)').default(false).argParser(parseBool('--insecure-skip-tls-verify')),
        'INSECURE_SKIP_TLS_VERIFY',
      ),
    )
    .addOption(
      env(
        new Option('--insecure-transport [bool]', 'disable transport security for client connections').default(true).argParser(parseBool('--insecure-transport')),
        'INSECURE_TRANSPORT',
      ),
    )
    .addOption(env(new Option('--dial-timeout <duration>', 'dial timeout for client connections').default('2s'), 'DIAL_TIMEOUT'))
    .addOption(
      env(new Option('--command-timeout <duration>', 'timeout for short running command (excluding dial timeout)').default('5s'), 'COMMAND_TIMEOUT'),
    )
    .addOption(env(new Option('--keepalive-time <duration>', 'keepalive time for client connections').default('30s'), 'KEEPALIVE_TIME'))
    .addOption(env(new Option('--keepalive-timeout <duration>', 'keepalive timeout for client connections').default('10s'), 'KEEPALIVE_TIMEOUT'));
}

function parseBool(flag: string): (value: string | undefined) => boolean {
  return (value) => parseFlagBool(flag, value ?? '');
}

function duration(flag: string, text: unknown): number {
  const ms = parseDuration(String(text));
  if (ms === undefined || ms <= 0) throw new UsageError(`Invalid ${flag} '${String(text)}': expected a duration such as 2s or 500ms`);
  return ms;
}

function readTlsFile(flag: string, path: unknown): Buffer | undefined {
  if (path === undefined || path === '') return undefined;
  return readFlagFile(flag, String(path));
}

/** Builds the client's options from the flags of a command that called addClientFlags. */
export function clientOptionsFromFlags(opts: Record<string, unknown>): EtcdClientOptions {
  silenceIpServerNameWarning();
  const ca = readTlsFile('--cacert', opts['cacert']);
  const cert = readTlsFile('--cert', opts['cert']);
  const key = readTlsFile('--key', opts['key']);
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(cert ? '--cert needs --key (the client certificate\'s private key)' : '--key needs --cert (the client certificate)');
  }
  const insecureSkipVerify = opts['insecureSkipTlsVerify'] === true;
  const hasTlsFiles = ca !== undefined || cert !== undefined;
  return {
    endpoints: String(opts['endpoints']).split(','),
    tls: { ca, cert, key, insecureSkipVerify },
    // As etcdctl: TLS when a TLS file is given or --insecure-transport=false; https:// always.
    secure: hasTlsFiles || opts['insecureTransport'] === false,
    dialTimeoutMs: duration('--dial-timeout', opts['dialTimeout']),
    requestTimeoutMs: duration('--command-timeout', opts['commandTimeout']),
    keepaliveTimeMs: duration('--keepalive-time', opts['keepaliveTime']),
    keepaliveTimeoutMs: duration('--keepalive-timeout', opts['keepaliveTimeout']),
  };
}

/**
 * grpc-js sends the endpoint's host as the TLS server name, and Node warns (DEP0123) when
 * that is an IP address, as etcd endpoints usually are; the check against the certificate's
 * IP SANs still happens, so the warning is only noise in a command's output.
 */
let warningSilenced = false;
function silenceIpServerNameWarning(): void {
  if (warningSilenced) return;
  warningSilenced = true;
  const original = process.emitWarning.bind(process);
  const filtered = (warning: string | Error, ...rest: unknown[]): void => {
    const code = typeof rest[1] === 'string' ? rest[1] : (rest[0] as { code?: string } | undefined)?.code;
    if (code === 'DEP0123') return;
    (original as (...args: unknown[]) => void)(warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
}

/**
 * A client from the command's flags. The client (gRPC) loads only when a command needs one:
 * every command module is loaded at start, and `snapshot verify` of a file should not carry it.
 */
export async function openClient(opts: Record<string, unknown>): Promise<EtcdClient> {
  const { EtcdClient } = await import('../../client/client.js');
  return new EtcdClient(clientOptionsFromFlags(opts));
}

/** Opens a client from the command's flags, runs `fn` with it and always closes it. */
export async function withClient<T>(opts: Record<string, unknown>, fn: (client: EtcdClient) => Promise<T>): Promise<T> {
  const client = await openClient(opts);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
