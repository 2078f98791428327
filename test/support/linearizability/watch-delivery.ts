/** One event as a watcher received it. */
export interface DeliveredEvent {
  readonly revision: number;
  readonly key: string;
  /** null for a delete. */
  readonly value: string | null;
}

export interface WatchLog {
  readonly name: string;
  /** The revision the watch was created from. */
  readonly startRevision: number;
  readonly events: readonly DeliveredEvent[];
}

/**
 * Checks watch delivery where every revision in the watched range changed exactly one watched
 * key (each write is a put of one key under the prefix): every log holds each revision from
 * its start to `lastRevision` exactly once, in order (ordered, gap-free, duplicate-free),
 * with the same event as every other log and as the write a client saw committed at that
 * revision; and, for each key of `finalValues` (a Range at `lastRevision`), the last event a
 * log holds for it carries that value. Returns the problems found, each one line.
 */
export function checkWatchDelivery(
  logs: readonly WatchLog[],
  lastRevision: number,
  committed: ReadonlyMap<number, { key: string; value: string }>,
  finalValues: ReadonlyMap<string, string | null> = new Map(),
): string[] {
  const problems: string[] = [];
  const agreed = new Map<number, { event: DeliveredEvent; by: string }>();
  for (const log of logs) {
    let expected = log.startRevision;
    for (const event of log.events) {
      if (event.revision < expected) {
        problems.push(`${log.name}: revision ${event.revision} delivered after ${expected - 1} (out of order or duplicate)`);
        continue;
      }
      if (event.revision > expected) problems.push(`${log.name}: revisions ${expected}..${event.revision - 1} never delivered (gap)`);
      expected = event.revision + 1;
      const write = committed.get(event.revision);
      if (write && (write.key !== event.key || write.value !== event.value)) {
        problems.push(`${log.name}: revision ${event.revision} delivered ${event.key}=${event.value} but a client committed ${write.key}=${write.value} there`);
      }
      const other = agreed.get(event.revision);
      if (!other) agreed.set(event.revision, { event, by: log.name });
      else if (other.event.key !== event.key || other.event.value !== event.value) {
        problems.push(`${log.name}: revision ${event.revision} is ${event.key}=${event.value}, ${other.by} got ${other.event.key}=${other.event.value}`);
      }
    }
    const latest = new Map(log.events.map((e) => [e.key, e.value]));
    for (const [key, value] of finalValues) {
      if (latest.has(key) && latest.get(key) !== value) problems.push(`${log.name}: the last event of ${key} is ${latest.get(key)}, a Range at ${lastRevision} reads ${value}`);
    }
    if (expected <= lastRevision) problems.push(`${log.name}: revisions ${expected}..${lastRevision} never delivered (stopped early)`);
    if (expected > lastRevision + 1) problems.push(`${log.name}: delivered up to ${expected - 1}, past the last revision ${lastRevision}`);
  }
  return problems;
}
