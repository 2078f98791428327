/**
 * The data model of the Raft core. Numeric codes of entry, message and conf-change types
 * equal etcd's raftpb enums so the server can put them on a wire or in a WAL unchanged.
 * Node IDs are 64-bit member IDs (bigint); terms and indexes are safe integers.
 */

/** The "no node" ID: no leader known, no vote cast. */
export const None = 0n;

export const EntryType = { Normal: 0, ConfChange: 1, ConfChangeV2: 2 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: number;
  readonly vote: bigint;
  readonly commit: number;
}

export type StateType = 'follower' | 'candidate' | 'leader' | 'preCandidate';

export interface SoftState {
  readonly lead: bigint;
  readonly raftState: StateType;
}

/**
 * A configuration. While `votersOutgoing` is non-empty the cluster is in a joint
 * configuration: decisions need a majority of `voters` and of `votersOutgoing`.
 * `learnersNext` are outgoing voters that become learners when the joint state is left.
 */
export interface ConfState {
  readonly voters: readonly bigint[];
  readonly learners: readonly bigint[];
  readonly votersOutgoing: readonly bigint[];
  readonly learnersNext: readonly bigint[];
  readonly autoLeave: boolean;
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

export const MessageType = {
  MsgHup: 0,
  MsgBeat: 1,
  MsgProp: 2,
  MsgApp: 3,
  MsgAppResp: 4,
  MsgVote: 5,
  MsgVoteResp: 6,
  MsgSnap: 7,
  MsgHeartbeat: 8,
  MsgHeartbeatResp: 9,
  MsgUnreachable: 10,
  MsgSnapStatus: 11,
  MsgCheckQuorum: 12,
  MsgTransferLeader: 13,
  MsgTimeoutNow: 14,
  MsgReadIndex: 15,
  MsgReadIndexResp: 16,
  MsgPreVote: 17,
  MsgPreVoteResp: 18,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const messageTypeNames = new Map<number, string>(Object.entries(MessageType).map(([name, code]) => [code, name]));

/** "MsgApp" for 3; for logs and failure messages. */
export function messageTypeName(type: MessageType): string {
  return messageTypeNames.get(type) ?? `MsgUnknown(${type})`;
}

export interface Message {
  readonly type: MessageType;
  readonly to: bigint;
  readonly from: bigint;
  readonly term: number;
  /** Term of the entry at `index` (MsgApp), of the candidate's last entry (votes), or the rejection hint's term. */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot?: Snapshot;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context: Uint8Array;
}

/** Every field a message may leave out, at its zero value. */
export function message(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    to: None,
    from: None,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: emptyBytes,
    ...fields,
  };
}

/** A linearizable read point: once the local node has applied `index`, the read for `requestCtx` may be served. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

export const ConfChangeType = { AddNode: 0, RemoveNode: 1, UpdateNode: 2, AddLearnerNode: 3 } as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** How a ConfChangeV2 with more than one change (or an explicit request) uses joint consensus. */
export const ConfChangeTransition = { Auto: 0, JointImplicit: 1, JointExplicit: 2 } as const;
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition];

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: bigint;
}

/** etcd's original one-change-at-a-time request (what etcd 3.4's server proposes). */
export interface ConfChangeV1 {
  readonly kind: 'v1';
  readonly id: bigint;
  readonly type: ConfChangeType;
  readonly nodeId: bigint;
  readonly context: Uint8Array;
}

export interface ConfChangeV2 {
  readonly kind: 'v2';
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  readonly context: Uint8Array;
}

export type ConfChange = ConfChangeV1 | ConfChangeV2;

export const emptyBytes: Uint8Array = new Uint8Array(0);

export const emptyConfState: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

export const emptySnapshot: Snapshot = { metadata: { index: 0, term: 0, confState: emptyConfState }, data: emptyBytes };

export const emptyHardState: HardState = { term: 0, vote: None, commit: 0 };

export function isEmptySnapshot(snap: Snapshot | undefined): boolean {
  return snap === undefined || snap.metadata.index === 0;
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === None && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Messages that only ever come from the local node, never over the network. */
export function isLocalMessage(type: MessageType): boolean {
  return (
    type === MessageType.MsgHup ||
    type === MessageType.MsgBeat ||
    type === MessageType.MsgUnreachable ||
    type === MessageType.MsgSnapStatus ||
    type === MessageType.MsgCheckQuorum
  );
}

export function isResponseMessage(type: MessageType): boolean {
  return (
    type === MessageType.MsgAppResp ||
    type === MessageType.MsgVoteResp ||
    type === MessageType.MsgHeartbeatResp ||
    type === MessageType.MsgUnreachable ||
    type === MessageType.MsgPreVoteResp
  );
}

/** The bytes an entry contributes to size limits (payload plus a fixed header estimate). */
export function entrySize(e: Entry): number {
  return e.data.length + 16;
}

/** The longest prefix of `ents` within `maxSize` bytes, but never fewer than one entry. */
export function limitSize(ents: readonly Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return [];
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxSize) break;
  }
  return ents.slice(0, n);
}

export function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedIds(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort(compareIds);
}
