import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * Linux gives outgoing connections source ports from 32768-60999 (ip_local_port_range), so a
 * port the OS picked for a test server could be taken by some client's connection before the
 * server bound it (a cluster test once failed so). Test servers pick below that range instead,
 * at random, and never the same port twice in one process.
 */
const FIRST_PORT = 20_000;
const LAST_PORT = 32_767;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago, outside the range clients draw from. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = randomInt(FIRST_PORT, LAST_PORT + 1);
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${FIRST_PORT} and ${LAST_PORT} on 127.0.0.1 after 1000 tries`);
}
