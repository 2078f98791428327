import type * as grpc from '@grpc/grpc-js';
import { EtcdError } from '../../api/etcd-errors.js';
import type { Logger } from '../../util/log.js';
import { unary, unimplemented } from './service-error.js';

/** The Auth service while auth is not implemented: Authenticate answers as an etcd with auth disabled. */
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
