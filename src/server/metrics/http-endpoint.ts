import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { StrataError } from '../../util/errors.js';
import type { MetricsRegistry } from './registry.js';

export interface HttpEndpointOptions {
  registry: MetricsRegistry;
  /** etcd's /health answer: healthy when the member has a leader and no alarm is raised. */
  health: () => { healthy: boolean; reason: string };
  version: () => { etcdserver: string; etcdcluster: string };
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean };
}

/** Serves /metrics, /health and /version on one --listen-metrics-urls address. */
export async function startHttpEndpoint(url: URL, options: HttpEndpointOptions): Promise<Server> {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(options.registry.render());
    } else if (path === '/health') {
      const { healthy, reason } = options.health();
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ health: String(healthy), reason }));
    } else if (path === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.version()));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    }
  };
  const server =
    url.protocol === 'https:' && options.tls
      ? createHttpsServer(
          { cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca ? { ca: options.tls.ca } : {}), requestCert: options.tls.requestCert },
          handler,
        )
      : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'address already in use; stop what holds the port or choose another' : err.message;
      reject(new StrataError('STRATA_LISTEN', `Cannot listen on ${url.protocol}//${url.host} (--listen-metrics-urls): ${why}`));
    });
    server.listen(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => resolve());
  });
  return server;
}
