import { Command, CommanderError } from 'commander';
import { ExitCode } from '../util/errors.js';
import { registerEndpointCommands } from './commands/endpoint.js';
import { registerKvCommands } from './commands/kv.js';
import { registerMemberCommands } from './commands/member.js';
import { registerMoveLeaderCommand } from './commands/move-leader.js';
import { normalizeServerArgv, registerServerCommand } from './commands/server.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerWatchCommand } from './commands/watch.js';
import { registerSnapshotCommands } from './commands/snapshot.js';
import { moveLeadingClientFlags } from './flags/leading-flags.js';
import { reportFailure, setDebug } from './run-action.js';
import { toolVersion } from './version.js';

/** The `strata` program: one file per command group registers itself here. */
export function buildProgram(): Command {
  const program = new Command('strata')
    .description('Backup, restore and migration for etcd v3 clusters, with a bundled etcd-compatible server')
    .version(toolVersion(), '--version', 'print the version and exit')
    .option('--debug', 'show stack traces and internal detail on failure')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.hook('preAction', (cmd) => setDebug(Boolean(cmd.optsWithGlobals()['debug'])));
  registerServerCommand(program);
  registerDemoCommand(program);
  registerKvCommands(program);
  registerWatchCommand(program);
  registerMemberCommands(program);
  registerMoveLeaderCommand(program);
  registerEndpointCommands(program);
  registerSnapshotCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(moveLeadingClientFlags(normalizeServerArgv(argv)));
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or the help/version text).
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      process.exitCode = ok ? ExitCode.ok : ExitCode.usage;
      return;
    }
    process.exitCode = reportFailure(err);
  }
}
