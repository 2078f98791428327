/** Bumped on any incompatible change; a backend of another version is refused on open. */
export const SCHEMA_VERSION = 1;

/**
 * Tables of the backend.
 *
 * rev:    every stored MVCC revision, as etcd's key bucket holds them: (main, sub), the
 *         tombstone mark, the user key and the marshalled mvccpb.KeyValue (HashKV hashes it).
 * live:   the latest revision of every key that currently exists, with what a put needs
 *         (create revision, version, lease) so writes and current reads skip the history.
 * meta:   small named values (consistent index, revisions, IDs).
 * lease:  granted leases (etcd's leasepb.Lease: ID, TTL, remaining TTL).
 * alarm:  active alarms per member.
 * member: cluster membership.
 *
 * 64-bit IDs are stored as signed INTEGER (two's complement of the uint64 where needed).
 */
export const SCHEMA = `
CREATE TABLE rev (
  main INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  tomb INTEGER NOT NULL,
  key BLOB NOT NULL,
  kv BLOB NOT NULL,
  PRIMARY KEY (main, sub)
) WITHOUT ROWID;
CREATE INDEX rev_by_key ON rev (key, main, sub, tomb);

CREATE TABLE live (
  key BLOB PRIMARY KEY,
  main INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  create_rev INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX live_by_lease ON live (lease, key) WHERE lease <> 0;

CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value
) WITHOUT ROWID;

CREATE TABLE lease (
  id INTEGER PRIMARY KEY,
  ttl INTEGER NOT NULL,
  remaining_ttl INTEGER NOT NULL
);

CREATE TABLE alarm (
  member_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  PRIMARY KEY (member_id, type)
) WITHOUT ROWID;

CREATE TABLE member (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  peer_urls TEXT NOT NULL,
  client_urls TEXT NOT NULL,
  is_learner INTEGER NOT NULL
);
`;
