// The snapshot archive's public surface (docs/archive-format.md).
export { ArchiveWriter, type ArchiveRecord, type ArchiveWriterOptions, type ArchiveWriteSummary } from './writer.js';
export { ArchiveReader, type ArchiveReaderOptions, type ArchiveVerification, type ReadRecord } from './reader.js';
export {
  idToHex,
  etcdHashNeedsRecords,
  type ArchiveContents,
  type ArchiveManifest,
  type ArchiveMember,
  type ArchiveSource,
  type ManifestInput,
} from './manifest.js';
export type { ArchiveHashKv, ArchiveTrailer } from './trailer.js';
export { MvccChecker, MvccViolation, type MvccScope } from './mvcc-checker.js';
export {
  availableCodecs,
  codecName,
  DEFAULT_LEVEL,
  loadZstdCodec,
  MAX_LEVEL,
  MIN_LEVEL,
  parseCodecName,
  type CodecName,
} from './codecs.js';
export { formatSidecar, parseSidecar, sidecarName } from './sidecar.js';
export { FORMAT_NAME, FORMAT_VERSION } from './format.js';
export type { ArchiveAuth, ArchiveLease } from '../api/archivepb.js';
