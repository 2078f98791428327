import type { Readable } from 'node:stream';

/**
 * The first bytes of a stream (at least `n` unless it ends sooner), and the whole stream again
 * with them put back: sources and readers decide by a file's magic what reads the rest.
 */
export async function peek(stream: Readable, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = (stream as Readable & AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const next = await it.next();
    if (next.done === true) break;
    parts.push(next.value);
    size += next.value.length;
  }
  const head = Buffer.concat(parts);
  let sent = head.length === 0;
  const again: AsyncIterator<Buffer> = {
    next: async () => {
      if (sent) return it.next();
      sent = true;
      return { done: false, value: head };
    },
    return: async () => (await it.return?.()) ?? { done: true, value: undefined },
  };
  return { head, rest: { [Symbol.asyncIterator]: () => again } };
}
