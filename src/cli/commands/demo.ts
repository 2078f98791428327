import type { Command } from 'commander';
import { action } from '../run-action.js';

/** `strata demo`: the main job on the bundled default, end to end (demo-run.ts). */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a demo on the bundled server in a temporary dir: start, write, snapshot, verify, restart, check')
    .option('--keys <n>', 'number of keys to write', '1000')
    .option('--keep', 'keep the temporary dir instead of removing it')
    .action(
      // Loaded on use: the demo pulls in the server and the client.
      action(async (options: { keys: string; keep?: boolean }) => (await import('./demo-run.js')).runDemo(options)),
    );
}
