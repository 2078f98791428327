/** The WAL and raft snapshot files of a member's data dir: the API the server loop uses. */
export { Wal, DEFAULT_SEGMENT_BYTES, type WalOptions, type WalReplay, type WalStats } from './wal.js';
export { WalCorruptError } from './errors.js';
export { loadNewestSnapFile, saveSnapFile, snapFileName, type SnapFile } from './snap-file.js';
export type { HardState, SnapshotMarker, WalEntry } from './types.js';
