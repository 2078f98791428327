import type * as grpc from '@grpc/grpc-js';
import type {
  CompactionRequest,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  TxnRequest,
} from '../../api/etcd-types.js';
import type { Logger } from '../../util/log.js';
import type { EtcdServerApi } from './server-api.js';
import { unary } from './service-error.js';
import { checkDeleteRange, checkPut, checkRange, checkTxn } from './validate.js';

export function kvService(server: EtcdServerApi, logger: Logger): grpc.UntypedServiceImplementation {
  return {
    Range: unary(logger, async (req: RangeRequest) => {
      checkRange(req);
      const { revision, ...rest } = await server.range(req);
      return { header: server.header(revision), ...rest };
    }),
    Put: unary(logger, async (req: PutRequest) => {
      checkPut(req);
      const { revision, ...rest } = await server.put(req);
      return { header: server.header(revision), ...rest };
    }),
    DeleteRange: unary(logger, async (req: DeleteRangeRequest) => {
      checkDeleteRange(req);
      const { revision, ...rest } = await server.deleteRange(req);
      return { header: server.header(revision), ...rest };
    }),
    Txn: unary(logger, async (req: TxnRequest) => {
      checkTxn(req, server.maxTxnOps);
      const { revision, ...rest } = await server.txn(req);
      return { header: server.header(revision), ...rest };
    }),
    Compact: unary(logger, async (req: CompactionRequest) => {
      const { revision } = await server.compact(req);
      return { header: server.header(revision) };
    }),
  };
}
