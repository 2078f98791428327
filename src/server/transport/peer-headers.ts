/** etcd's peer headers: a member of another cluster is refused by cluster ID. */
export const CLUSTER_ID_HEADER = 'x-etcd-cluster-id';
export const FROM_HEADER = 'x-server-from';
export const RAFT_PATH = '/raft';
export const MEMBERS_PATH = '/members';
export const LEASE_RENEW_PATH = '/leases/renew';
export const MEMBER_PROMOTE_PATH = '/members/promote';
