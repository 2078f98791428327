import type * as grpc from '@grpc/grpc-js';
import { EtcdError } from '../../api/etcd-errors.js';
import type { Logger } from '../../util/log.js';
import type { EtcdServerApi } from './server-api.js';
import { toServiceError, unary } from './service-error.js';

interface IdRequest {
  ID: string;
}

export function leaseService(server: EtcdServerApi, logger: Logger): grpc.UntypedServiceImplementation {
  return {
    LeaseGrant: unary(logger, async (req: { TTL: string; ID: string }) => {
      const granted = await server.leaseGrant(BigInt(req.ID), Number(req.TTL));
      return { header: server.header(granted.revision), ID: granted.id.toString(), TTL: String(granted.ttl), error: '' };
    }),
    LeaseRevoke: unary(logger, async (req: IdRequest) => {
      const { revision } = await server.leaseRevoke(BigInt(req.ID));
      return { header: server.header(revision) };
    }),
    LeaseTimeToLive: unary(logger, async (req: IdRequest & { keys: boolean }) => {
      try {
        const ttl = await server.leaseTimeToLive(BigInt(req.ID), req.keys);
        return { header: server.header(), ID: req.ID, TTL: String(ttl.ttl), grantedTTL: String(ttl.grantedTtl), keys: ttl.keys };
      } catch (err) {
        // etcd answers an unknown lease with TTL -1 rather than an error.
        if (err instanceof EtcdError && err.etcdName === 'leaseNotFound') {
          return { header: server.header(), ID: req.ID, TTL: '-1', grantedTTL: '0', keys: [] };
        }
        throw err;
      }
    }),
    LeaseLeases: unary(logger, () => ({
      header: server.header(),
      leases: server.leaseList().map((id) => ({ ID: id.toString() })),
    })),
    LeaseKeepAlive: (call: grpc.ServerDuplexStream<IdRequest, unknown>) => {
      call.on('data', (req: IdRequest) => {
        server.leaseRenew(BigInt(req.ID)).then(
          (ttl) => call.write({ header: server.header(), ID: req.ID, TTL: String(ttl) }),
          (err: unknown) => {
            // etcd answers a keep-alive for an unknown or expired lease with TTL 0.
            if (err instanceof EtcdError && err.etcdName === 'leaseNotFound') {
              call.write({ header: server.header(), ID: req.ID, TTL: '0' });
            } else {
              call.destroy(Object.assign(new Error('lease keep-alive failed'), toServiceError(err, logger)));
            }
          },
        );
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  };
}
