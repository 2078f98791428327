import type * as grpc from '@grpc/grpc-js';
import type { AlarmType } from '../../api/etcd-types.js';
import type { Logger } from '../../util/log.js';
import type { EtcdServerApi } from './server-api.js';
import { unary } from './service-error.js';
import { streamSnapshot } from './snapshot-stream.js';

export function maintenanceService(server: EtcdServerApi, logger: Logger): grpc.UntypedServiceImplementation {
  return {
    Status: unary(logger, () => ({ header: server.header(), ...server.status() })),
    Hash: unary(logger, () => ({ header: server.header(), hash: server.hash() })),
    HashKV: unary(logger, (req: { revision: string }) => {
      const result = server.hashKV(Number(req.revision));
      return {
        header: server.header(),
        hash: result.hash,
        compact_revision: String(result.compactRevision),
        hash_revision: String(result.hashRevision),
      };
    }),
    Alarm: unary(logger, async (req: { action: 'GET' | 'ACTIVATE' | 'DEACTIVATE'; memberID: string; alarm: AlarmType }) => {
      const alarms = await server.alarm(req.action, BigInt(req.memberID), req.alarm);
      return { header: server.header(), alarms };
    }),
    Defragment: unary(logger, async () => {
      await server.defragment();
      return { header: server.header() };
    }),
    MoveLeader: unary(logger, async (req: { targetID: string }) => {
      await server.moveLeader(BigInt(req.targetID));
      return { header: server.header() };
    }),
    Snapshot: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      void streamSnapshot(call, server, logger);
    },
  };
}
