import { Command, Option } from 'commander';
import { resolveServerConfig } from '../../server/config/server-config.js';
import { serverFlags } from '../../server/config/flag-table.js';
import { createLogger } from '../../util/log.js';
import { action } from '../run-action.js';

/** etcd accepts Go-style single-dash long flags (-name x); commander wants --name. */
export function normalizeServerArgv(argv: string[]): string[] {
  const known = new Set(serverFlags.map((f) => f.name));
  const at = argv.indexOf('server');
  if (at < 0) return argv;
  return argv.map((arg, i) => {
    if (i <= at) return arg;
    const match = /^-([a-z][a-z0-9-]+)(=.*)?$/.exec(arg);
    return match && known.has(match[1]!) ? `-${arg}` : arg;
  });
}

export function registerServerCommand(program: Command): void {
  const command = program
    .command('server')
    .description(
      'run the bundled etcd-compatible server (etcd flags and ETCD_* environment variables; flags win over the environment)',
    );
  for (const flag of serverFlags) {
    const spec = flag.kind === 'bool' ? `--${flag.name} [bool]` : `--${flag.name} <value>`;
    const defaultNote = flag.defaultValue === '' ? '' : ` (default: ${flag.defaultValue})`;
    command.addOption(new Option(spec, `${flag.description}${defaultNote}`));
  }
  command.action(
    action(async () => {
      const given: Record<string, string> = {};
      for (const flag of serverFlags) {
        const value: unknown = command.getOptionValue(camel(flag.name));
        if (value === undefined) continue;
        given[flag.name] = value === true ? 'true' : String(value);
      }
      const { config, notes } = resolveServerConfig(given, process.env);
      const logger = createLogger(process.stderr, config.logLevel);
      for (const note of notes) logger.info(note);
      // Loaded here, not with the command list: the server is most of the code.
      const { EtcdServer } = await import('../../server/etcd-server.js');
      const { server } = await EtcdServer.start(config, logger);
      // A member removed from the cluster stops by itself and exits with why, as etcd does.
      const removed = await new Promise<Error | undefined>((resolve) => {
        const shutdown = (signal: string): void => {
          logger.info('received signal; shutting down', { signal });
          server.stop().then(() => resolve(undefined), () => resolve(undefined));
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        void server.terminated.then((reason) => server.stop().then(() => resolve(reason), () => resolve(reason)));
      });
      if (removed) throw removed;
    }),
  );
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
