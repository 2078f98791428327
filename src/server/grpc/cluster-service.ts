import type * as grpc from '@grpc/grpc-js';
import type { Member, ResponseHeader } from '../../api/etcd-types.js';
import type { Logger } from '../../util/log.js';
import { unary } from './service-error.js';

/** Membership changes as the server routes them through raft conf changes. */
export interface ClusterApi {
  header(): ResponseHeader;
  members(): Member[];
  memberAdd(peerUrls: string[], isLearner: boolean): Promise<Member>;
  memberRemove(id: bigint): Promise<void>;
  memberUpdate(id: bigint, peerUrls: string[]): Promise<void>;
  memberPromote(id: bigint): Promise<void>;
}

interface IdRequest {
  ID: string;
}

export function clusterService(server: ClusterApi, logger: Logger): grpc.UntypedServiceImplementation {
  const answer = () => ({ header: server.header(), members: server.members() });
  return {
    MemberList: unary(logger, answer),
    MemberAdd: unary(logger, async (req: { peerURLs: string[]; isLearner: boolean }) => {
      const member = await server.memberAdd(req.peerURLs, req.isLearner);
      return { ...answer(), member };
    }),
    MemberRemove: unary(logger, async (req: IdRequest) => {
      await server.memberRemove(BigInt(req.ID));
      return answer();
    }),
    MemberUpdate: unary(logger, async (req: IdRequest & { peerURLs: string[] }) => {
      await server.memberUpdate(BigInt(req.ID), req.peerURLs);
      return answer();
    }),
    MemberPromote: unary(logger, async (req: IdRequest) => {
      await server.memberPromote(BigInt(req.ID));
      return answer();
    }),
  };
}
