/**
 * Structured logging: one JSON object per line ({"level","ts","msg",...fields}), written to
 * a sink the caller provides (the CLI passes stderr). Library code takes a Logger and never
 * writes to the terminal itself.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LogSink {
  write(line: string): unknown;
}

export function parseLogLevel(text: string): LogLevel | undefined {
  return text in levelRank ? (text as LogLevel) : undefined;
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return value;
}

export function createLogger(sink: LogSink, minLevel: LogLevel = 'info', base: LogFields = {}): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (levelRank[level] < levelRank[minLevel]) return;
    sink.write(`${JSON.stringify({ level, ts: new Date().toISOString(), msg, ...base, ...fields }, jsonValue)}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(sink, minLevel, { ...base, ...fields }),
  };
}

/** Discards everything: the default for library code run without a logger. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
