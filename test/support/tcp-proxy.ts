/**
 * A TCP proxy of our own in front of every member's peer port, so a test can cut, blackhole
 * or slow down the links between chosen members of a cluster on loopback.
 *
 * Each member listens on its real peer port and advertises its proxy's port (member IDs are
 * derived from advertised URLs, so they are the same everywhere). A proxy knows which member
 * it fronts; to know who is dialing, it looks the connection up in /proc (Linux): the
 * dialing socket's inode in /proc/net/tcp, then which registered member process holds it.
 * That classifies every peer connection whatever it carries (raft messages, forwarded lease
 * renewals, member lookups), where peeking at headers would miss requests without
 * `x-server-from`. A connection from an unregistered process is cut whenever its target has
 * any cut link.
 */
import { EventEmitter } from 'node:events';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';

/** For `test(…, { skip: linuxOnly })`: the proxy tells dialers apart through /proc. */
export const linuxOnly: string | false = process.platform === 'linux' ? false : 'the peer proxy tells dialing members apart through /proc, which only Linux has';

/** 'drop': connections are reset and new ones refused. 'blackhole': bytes vanish, nobody is told. */
export type LinkFault = 'drop' | 'blackhole';

export interface ProxiedConnection {
  /** The dialing member, or undefined when its process is not registered. */
  readonly from: string | undefined;
  readonly to: string;
}

interface Connection extends ProxiedConnection {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Some bytes were blackholed: the byte stream is broken and must be reset on heal. */
  lostBytes: boolean;
}

interface PeerNetworkEvents {
  /** Bytes from `from` to `to` were blackholed. */
  blackholed: [from: string | undefined, to: string | undefined, bytes: number];
  /** A connection was refused or reset because its link is dropped. */
  dropped: [from: string | undefined, to: string];
}

const linkKey = (from: string, to: string): string => `${from}>${to}`;

/** The proxies of one cluster and the faults on its links. */
export class PeerNetwork extends EventEmitter<PeerNetworkEvents> {
  private readonly servers = new Map<string, Server>();
  private readonly pids = new Map<string, number>();
  private readonly cuts = new Map<string, LinkFault>();
  private readonly delays = new Map<string, number>();
  private readonly open = new Set<Connection>();
  private closed = false;

  /** Starts the proxy for member `name` in front of its real peer port; resolves to the port to advertise. */
  async addMember(name: string, targetPort: number, host = '127.0.0.1'): Promise<number> {
    if (this.servers.has(name)) throw new Error(`PeerNetwork: member ${name} already has a proxy`);
    const server = createServer({ pauseOnConnect: true }, (client) => void this.accept(name, client, targetPort, host));
    this.servers.set(name, server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('PeerNetwork: the proxy has no TCP address');
    return address.port;
  }

  /** The process that runs member `name` now; call it after every (re)start, before it dials. */
  setPid(name: string, pid: number | undefined): void {
    if (pid === undefined) this.pids.delete(name);
    else this.pids.set(name, pid);
  }

  /** Cuts the links a→b and b→a. */
  cut(a: string, b: string, fault: LinkFault = 'blackhole'): void {
    this.cuts.set(linkKey(a, b), fault);
    this.cuts.set(linkKey(b, a), fault);
    if (fault === 'drop') for (const c of this.open) if (this.faultOf(c.from, c.to) === 'drop') this.reset(c);
  }

  /** Blackholes only what `from` sends to `to` (requests on its connections, answers on the other's): an asymmetric partition. */
  cutOneWay(from: string, to: string): void {
    this.cuts.set(linkKey(from, to), 'blackhole');
  }

  /** Cuts every link of `name`. */
  isolate(name: string, fault: LinkFault = 'blackhole'): void {
    for (const other of this.servers.keys()) if (other !== name) this.cut(name, other, fault);
  }

  /** Delays every byte between a and b by `ms` in each direction (order kept). */
  delay(a: string, b: string, ms: number): void {
    this.delays.set(linkKey(a, b), ms);
    this.delays.set(linkKey(b, a), ms);
  }

  /** Removes every cut and delay; connections that lost bytes are reset so their peers redial. */
  heal(): void {
    this.cuts.clear();
    this.delays.clear();
    for (const c of this.open) if (c.lostBytes) this.reset(c);
  }

  /** The live proxied connections, with who dialed whom. */
  connections(): ProxiedConnection[] {
    return [...this.open].map(({ from, to }) => ({ from, to }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.open) this.reset(c);
    await Promise.all([...this.servers.values()].map((s) => new Promise((resolve) => s.close(resolve))));
    this.servers.clear();
  }

  private faultOf(from: string | undefined, to: string): LinkFault | undefined {
    if (from !== undefined) return this.cuts.get(linkKey(from, to));
    for (const [key, fault] of this.cuts) if (key.startsWith(`${to}>`) || key.endsWith(`>${to}`)) return fault;
    return undefined;
  }

  private delayOf(from: string | undefined, to: string | undefined): number {
    return from === undefined || to === undefined ? 0 : (this.delays.get(linkKey(from, to)) ?? 0);
  }

  private async accept(to: string, client: Socket, targetPort: number, host: string): Promise<void> {
    client.on('error', () => client.destroy());
    const from = await this.dialer(client).catch(() => undefined);
    if (client.destroyed) return;
    if (this.closed) {
      client.destroy();
      return;
    }
    if (this.faultOf(from, to) === 'drop') {
      this.emit('dropped', from, to);
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, host);
    const connection: Connection = { from, to, client, upstream, lostBytes: false };
    this.open.add(connection);
    upstream.on('error', () => upstream.destroy());
    const closeBoth = (): void => {
      // Behind a blackhole nobody learns of the close; heal() resets what is left.
      if (connection.lostBytes) return;
      this.open.delete(connection);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    this.pipe(client, upstream, connection, false);
    this.pipe(upstream, client, connection, true);
    client.resume();
  }

  /** Forwards `source` to `sink` (the answer direction when `reverse`), applying the link's fault and delay at each chunk. */
  private pipe(source: Socket, sink: Socket, connection: Connection, reverse: boolean): void {
    const queue: Array<{ at: number; chunk: Buffer | null }> = [];
    let timer: NodeJS.Timeout | undefined;
    const deliver = (chunk: Buffer | null): void => {
      if (chunk === null) sink.end();
      else sink.write(chunk);
    };
    const drain = (): void => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.at <= Date.now()) deliver(queue.shift()!.chunk);
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.at - Date.now());
    };
    const forward = (chunk: Buffer | null): void => {
      const { from, to } = connection;
      const fault = from === undefined ? this.faultOf(undefined, to) : reverse ? this.faultOf(to, from) : this.faultOf(from, to);
      if (fault === 'blackhole') {
        connection.lostBytes = true;
        if (chunk) this.emit('blackholed', reverse ? to : from, reverse ? from : to, chunk.length);
        return;
      }
      const ms = reverse ? this.delayOf(to, from) : this.delayOf(from, to);
      if (ms === 0 && queue.length === 0) return deliver(chunk);
      const at = Math.max(Date.now() + ms, queue[queue.length - 1]?.at ?? 0);
      queue.push({ at, chunk });
      timer ??= setTimeout(drain, at - Date.now());
    };
    source.on('data', (chunk: Buffer) => forward(chunk));
    source.on('end', () => forward(null));
    source.on('close', () => clearTimeout(timer));
  }

  private reset(c: Connection): void {
    this.open.delete(c);
    for (const socket of [c.client, c.upstream]) if (!socket.destroyed) socket.resetAndDestroy();
  }

  /** Which registered member's process dialed `socket`. */
  private async dialer(socket: Socket): Promise<string | undefined> {
    const inode = await socketInode(socket.remotePort!, socket.localPort!);
    if (inode === undefined) return undefined;
    for (const [name, pid] of this.pids) {
      if (await holdsSocket(pid, inode)) return name;
    }
    return undefined;
  }
}

/** The inode of the loopback socket whose local port is `localPort` and remote port `remotePort`. */
export async function socketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1]?.split(':').pop();
      const remote = fields[2]?.split(':').pop();
      if (local && remote && parseInt(local, 16) === localPort && parseInt(remote, 16) === remotePort) return fields[9];
    }
  }
  return undefined;
}

/** Whether process `pid` has the socket with this inode open. */
export async function holdsSocket(pid: number, inode: string): Promise<boolean> {
  const dir = `/proc/${pid}/fd`;
  const fds = await readdir(dir).catch(() => [] as string[]);
  const wanted = `socket:[${inode}]`;
  for (const fd of fds) if ((await readlink(`${dir}/${fd}`).catch(() => '')) === wanted) return true;
  return false;
}
