/** etcd's peer headers: a member of another cluster is refused by cluster ID. */
export const CLUSTER_ID_HEADER = 'x-etcd-cluster-id';
export const FROM_HEADER = 'x-server-from';
/** One long-lived POST per sending peer, its body a stream of length-prefixed message batches. */
export const RAFT_STREAM_PATH = '/raft/stream';
/** How soon the OS probes an idle raft stream's connection, so a vanished peer does not hold it forever. */
export const PEER_TCP_KEEPALIVE_MS = 10_000;
export const MEMBERS_PATH = '/members';
export const LEASE_RENEW_PATH = '/leases/renew';
export const LEASE_TTL_PATH = '/leases/ttl';
export const MEMBER_PROMOTE_PATH = '/members/promote';
/** `/add-voter`, `/add-learner` or `/remove/<id>`: a follower asks the leader for the strict reconfig check. */
export const RECONFIG_CHECK_PATH = '/members/reconfig-check';
/** etcd answers a removed member's traffic with 410 Gone and this text. */
export const REMOVED_STATUS = 410;
export const MEMBER_REMOVED_MESSAGE = 'the member has been permanently removed from the cluster';
export const SNAPSHOT_PATH = '/raft/snapshot';
/** The MsgSnap (base64 raftpb, metadata only) and the size of the backend that follows in the body. */
export const SNAPSHOT_MESSAGE_HEADER = 'x-raft-snapshot-message';
export const SNAPSHOT_DB_SIZE_HEADER = 'x-raft-snapshot-db-size';
