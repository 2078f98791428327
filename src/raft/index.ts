/** The public surface of the Raft core. */
export * from './types.js';
export { RaftError, isRaftError, type RaftErrorCode } from './errors.js';
export { Prng } from './prng.js';
export type { Storage } from './storage.js';
export { MemoryStorage } from './storage.js';
export type { RaftConfig, RaftLogger, Status, ProgressStatus } from './raft.js';
export type { ReadOnlyOption } from './read-only.js';
export { RawNode, type Ready, type Peer, type SnapshotStatus } from './rawnode.js';
export {
  decodeConfChangeEntry,
  decodeConfChangeV1,
  decodeConfChangeV2,
  encodeConfChange,
  encodeConfChangeV1,
  encodeConfChangeV2,
} from './confchange-codec.js';
