import { createLogger, type Logger } from '../../util/log.js';

/** Library log lines go to stderr as plain text (stdout may carry the archive or the JSON). */
export function stderrLogger(): Logger {
  return createLogger(
    {
      write: (line: string) => {
        const { msg, level } = JSON.parse(line) as { msg: string; level: string };
        process.stderr.write(`${level === 'info' ? '' : `${level}: `}${msg}\n`);
      },
    },
    'info',
  );
}
