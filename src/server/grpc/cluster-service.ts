import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../util/log.js';
import type { EtcdServerApi } from './server-api.js';
import { unary, unimplemented } from './service-error.js';

export function clusterService(server: EtcdServerApi, logger: Logger): grpc.UntypedServiceImplementation {
  const needsRaft = unary(logger, () => {
    throw unimplemented('changing membership (it needs a multi-member cluster)');
  });
  return {
    MemberList: unary(logger, () => ({ header: server.header(), members: server.members() })),
    MemberAdd: needsRaft,
    MemberRemove: needsRaft,
    MemberUpdate: needsRaft,
    MemberPromote: needsRaft,
  };
}
