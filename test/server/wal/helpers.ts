import type { LogFields, Logger } from '../../../src/util/log.js';
import type { WalEntry } from '../../../src/server/wal/types.js';
import type { WalReplay } from '../../../src/server/wal/wal.js';

/** Deterministic entry content, so a reader can check an entry without the writer's memory. */
export function entryData(index: number, term: number, size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return data;
}

export function makeEntry(index: number, term = 1, size = 16): WalEntry {
  return { index, term, type: 0, data: entryData(index, term, size) };
}

export async function replayAll(replay: WalReplay, maxBatchBytes?: number): Promise<WalEntry[]> {
  const out: WalEntry[] = [];
  for await (const batch of replay.entries(maxBatchBytes)) out.push(...batch);
  return out;
}

/** Entries compared by value (data as Buffer), for deepEqual. */
export function normalize(entries: readonly WalEntry[]): Array<{ term: number; index: number; type: number; data: Buffer }> {
  return entries.map((e) => ({ term: e.term, index: e.index, type: e.type, data: Buffer.from(e.data) }));
}

/** A Logger that keeps what it is given, for asserting on warnings. */
export function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; fields: LogFields }> } {
  const lines: Array<{ level: string; msg: string; fields: LogFields }> = [];
  const make = (base: LogFields): Logger => ({
    debug: (msg, fields) => lines.push({ level: 'debug', msg, fields: { ...base, ...fields } }),
    info: (msg, fields) => lines.push({ level: 'info', msg, fields: { ...base, ...fields } }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, fields: { ...base, ...fields } }),
    error: (msg, fields) => lines.push({ level: 'error', msg, fields: { ...base, ...fields } }),
    child: (fields) => make({ ...base, ...fields }),
  });
  return Object.assign(make({}), { lines });
}
