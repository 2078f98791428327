import type * as grpc from '@grpc/grpc-js';
import { EtcdError } from '../../api/etcd-errors.js';
import type { AlarmType } from '../../api/etcd-types.js';
import type { Logger } from '../../util/log.js';
import type { EtcdServerApi } from './server-api.js';
import { unary, unimplemented } from './service-error.js';
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
    MoveLeader: unary(logger, () => {
      throw unimplemented('moving the leader (it needs a multi-member cluster)');
    }),
    Snapshot: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      void streamSnapshot(call, server, logger);
    },
  };
}

export function authService(logger: Logger): grpc.UntypedServiceImplementation {
  const notEnabled = unary(logger, () => {
    throw new EtcdError('authNotEnabled');
  });
  const methods = [
    'AuthEnable', 'AuthDisable', 'Authenticate', 'UserAdd', 'UserGet', 'UserList', 'UserDelete', 'UserChangePassword',
    'UserGrantRole', 'UserRevokeRole', 'RoleAdd', 'RoleGet', 'RoleList', 'RoleDelete', 'RoleGrantPermission',
    'RoleRevokePermission',
  ];
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of methods) {
    impl[method] =
      method === 'Authenticate'
        ? notEnabled
        : unary(logger, () => {
            throw unimplemented('authentication and roles');
          });
  }
  return impl;
}
