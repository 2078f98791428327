import { status } from '@grpc/grpc-js';

/**
 * etcd's client-facing errors: the gRPC status code and the exact message etcd sends
 * (clients such as etcdctl and kube-apiserver match on these strings).
 */
export interface EtcdErrorSpec {
  readonly code: status;
  readonly message: string;
}

const e = (code: status, message: string): EtcdErrorSpec => ({ code, message });

export const EtcdErrors = {
  emptyKey: e(status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: e(status.INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: e(status.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: e(status.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  tooManyOps: e(status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: e(status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  compacted: e(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: e(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  noSpace: e(status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),
  leaseNotFound: e(status.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExist: e(status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: e(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  memberExist: e(status.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  peerURLExist: e(status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  memberNotEnoughStarted: e(
    status.FAILED_PRECONDITION,
    'etcdserver: re-configuration failed due to not enough started members',
  ),
  memberBadURLs: e(status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  memberNotFound: e(status.NOT_FOUND, 'etcdserver: member not found'),
  memberNotLearner: e(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  learnerNotReady: e(
    status.FAILED_PRECONDITION,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ),
  tooManyLearners: e(status.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'),
  requestTooLarge: e(status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  tooManyRequests: e(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),
  noLeader: e(status.UNAVAILABLE, 'etcdserver: no leader'),
  notLeader: e(status.FAILED_PRECONDITION, 'etcdserver: not leader'),
  leaderChanged: e(status.UNAVAILABLE, 'etcdserver: leader changed'),
  notCapable: e(status.UNAVAILABLE, 'etcdserver: not capable'),
  stopped: e(status.UNAVAILABLE, 'etcdserver: server stopped'),
  timeout: e(status.UNAVAILABLE, 'etcdserver: request timed out'),
  timeoutDueToLeaderFail: e(
    status.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to previous leader failure',
  ),
  timeoutDueToConnectionLost: e(
    status.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to connection lost',
  ),
  unhealthy: e(status.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
  corrupt: e(status.DATA_LOSS, 'etcdserver: corrupt cluster'),
  notSupportedForLearner: e(status.UNAVAILABLE, 'etcdserver: rpc not supported for learner'),
  badLeaderTransferee: e(status.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),
  timeoutLeaderTransfer: e(status.UNAVAILABLE, 'etcdserver: request timed out, leader transfer took too long'),
  invalidAuthToken: e(status.UNAUTHENTICATED, 'etcdserver: invalid auth token'),
  permissionDenied: e(status.PERMISSION_DENIED, 'etcdserver: permission denied'),
  authNotEnabled: e(status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'),
  authFailed: e(status.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'),
} as const satisfies Record<string, EtcdErrorSpec>;

export type EtcdErrorName = keyof typeof EtcdErrors;

/** An etcd error raised inside the server; the gRPC layer sends it with its code and message. */
export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  readonly code: status;
  readonly etcdName: EtcdErrorName;

  constructor(name: EtcdErrorName) {
    const spec = EtcdErrors[name];
    super(spec.message);
    this.code = spec.code;
    this.etcdName = name;
  }
}

const byMessage = new Map<string, EtcdErrorName>(
  Object.entries(EtcdErrors).map(([name, spec]) => [spec.message, name as EtcdErrorName]),
);

/** Recognises an etcd error from the message a server sent (client side). */
export function etcdErrorNameOf(message: string): EtcdErrorName | undefined {
  return byMessage.get(message);
}
