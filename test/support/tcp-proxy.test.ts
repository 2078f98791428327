import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { RunningProcess } from './process.js';
import { PeerNetwork, linuxOnly } from './tcp-proxy.js';

/**
 * A peer stand-in in its own process (the proxy tells dialers apart by process): it dials the
 * port, says hello with its name, answers every line with "pong <line>", and prints "closed".
 */
const echoClient = `
const socket = require('node:net').connect(Number(process.argv[1]), '127.0.0.1', () => socket.write('hello ' + process.argv[2] + '\\n'));
let buffered = '';
socket.on('data', (d) => {
  buffered += d;
  for (let i; (i = buffered.indexOf('\\n')) >= 0; buffered = buffered.slice(i + 1)) socket.write('pong ' + buffered.slice(0, i) + '\\n');
});
socket.on('error', () => {});
socket.on('close', () => { process.stdout.write('closed\\n'); process.exit(0); });
`;

/** The member behind the proxy: tracks each dialer's socket by its hello and waits for pongs. */
class Target {
  readonly sockets = new Map<string, Socket>();
  private readonly lines = new Map<Socket, string[]>();
  private readonly server = createServer((socket) => {
    let buffered = '';
    this.lines.set(socket, []);
    socket.on('data', (d) => {
      buffered += d.toString();
      for (let i; (i = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(i + 1)) {
        const line = buffered.slice(0, i);
        if (line.startsWith('hello ')) this.sockets.set(line.slice(6), socket);
        this.lines.get(socket)!.push(line);
        this.server.emit('line');
      }
    });
    socket.on('error', () => {});
  });

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as { port: number }).port;
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await once(this.server, 'line');
  }

  /** Sends a ping to `name` and resolves with the round trip in ms. */
  async roundTrip(name: string, ping: string): Promise<number> {
    const socket = this.sockets.get(name)!;
    const started = Date.now();
    socket.write(`${ping}\n`);
    await this.until(() => this.lines.get(socket)!.includes(`pong ${ping}`));
    return Date.now() - started;
  }

  close(): void {
    for (const socket of this.lines.keys()) socket.destroy();
    this.server.close();
  }
}

test('the peer proxy tells dialing members apart, blackholes (both ways or one), drops and delays chosen links, and heals', { timeout: 60_000, skip: linuxOnly }, async (t) => {
  const target = new Target();
  const network = new PeerNetwork();
  const children: RunningProcess[] = [];
  t.after(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await network.close();
    target.close();
  });
  const proxyPort = await network.addMember('t', await target.listen());
  const dial = (name: string): RunningProcess => {
    const child = new RunningProcess(process.execPath, ['-e', echoClient, String(proxyPort), name], { timeoutMs: 60_000 });
    network.setPid(name, child.child.pid);
    children.push(child);
    return child;
  };

  let a = dial('a');
  const b = dial('b');
  await target.until(() => target.sockets.has('a') && target.sockets.has('b'));
  await target.roundTrip('a', 'p1');
  await target.roundTrip('b', 'p1');
  assert.deepEqual(
    network.connections().sort((x, y) => String(x.from).localeCompare(String(y.from))),
    [{ from: 'a', to: 't' }, { from: 'b', to: 't' }],
    'each connection is classified by the process that dialed it',
  );

  const stranger = connect(proxyPort, '127.0.0.1');
  stranger.on('error', () => {});
  await once(stranger, 'connect');
  stranger.write('hello stranger\n');
  await target.until(() => target.sockets.has('stranger'));
  assert.ok(network.connections().some((c) => c.from === undefined), 'a process that is not a member is unclassified');

  // Blackhole a–t: a's ping vanishes (nobody is told), b still gets through.
  network.cut('a', 't', 'blackhole');
  const vanished = once(network, 'blackholed');
  target.sockets.get('a')!.write('lost\n');
  assert.deepEqual((await vanished).slice(0, 2), ['t', 'a']);
  await target.roundTrip('b', 'p2');
  assert.equal(a.child.exitCode, null, 'a blackholed dialer is not told anything');
  const strangerGone = new Promise((resolve) => stranger.once('close', resolve));

  // Healing resets the broken connection, so the member redials and gets through again.
  network.heal();
  await a.waitFor((out) => out.includes('closed'), 10_000, 'the blackholed connection to be reset on heal');
  const brokenSocket = target.sockets.get('a');
  a = dial('a');
  await target.until(() => target.sockets.get('a') !== brokenSocket);
  await target.roundTrip('a', 'p3');

  // Drop b–t: b's connection is reset, and a new one from b is refused at once.
  network.cut('t', 'b', 'drop');
  await b.waitFor((out) => out.includes('closed'), 10_000, "b's connection to be reset");
  const refused = once(network, 'dropped');
  const b2 = dial('b');
  await b2.waitFor((out) => out.includes('closed'), 10_000, "b's new connection to be refused");
  assert.deepEqual((await refused).slice(0, 2), ['b', 't']);
  assert.ok(network.connections().every((c) => c.from !== 'b'));
  // A connection the proxy cannot classify is treated as cut whenever its target has a cut link.
  await strangerGone;
  network.heal();

  // Delay a–t both ways: a round trip takes at least both delays.
  network.delay('a', 't', 200);
  assert.ok((await target.roundTrip('a', 'p4')) >= 390, 'the ping and the pong were each held back');
  network.heal();

  // One way, a→t only: t's ping still reaches a (a answers), and a's pong is what vanishes.
  network.cutOneWay('a', 't');
  const oneWay = once(network, 'blackholed');
  target.sockets.get('a')!.write('one-way\n');
  assert.deepEqual((await oneWay).slice(0, 2), ['a', 't']);
});
