import { FORMAT_MAJOR, FORMAT_NAME, FORMAT_VERSION } from './format.js';
import {
  asArray,
  asBoolean,
  asCount,
  asObject,
  asOptionalString,
  asString,
  asStringArray,
  type JsonObject,
} from './json-fields.js';

/**
 * `history`: every revision etcd's HashKV covers at the snapshot revision (the history since the
 * compact revision plus the revisions compaction keeps), so hashKV is comparable with etcd's.
 * `latest`: only the newest revision of each live key (a logical Range read); no tombstones,
 * sub revisions numbered by the writer, no hashKV.
 */
export type ArchiveContents = 'history' | 'latest';

export interface ArchiveMember {
  /** Member ID in lowercase hex, as etcdctl prints it. */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface ArchiveSource {
  /** How the snapshot was taken: `strata` (bundled server's API), `etcd` (etcd's API), `range`, `data-dir`, `etcd-db`. */
  kind: string;
  /** Endpoints the user named. */
  endpoints?: string[];
  /** The one endpoint actually read. */
  endpoint?: string;
  dataDir?: string;
  /** A snapshot file read from disk. */
  path?: string;
  /** Cluster ID in lowercase hex. */
  clusterId: string;
  /** Member the snapshot was read from, lowercase hex. */
  memberId?: string;
  members: ArchiveMember[];
  serverVersion?: string;
  /** Key prefix of a prefix-scoped `latest` snapshot. */
  prefix?: string;
}

export interface ArchiveManifest {
  format: string;
  formatVersion: string;
  tool: { name: string; version: string };
  /** ISO 8601, UTC. */
  createdAt: string;
  source: ArchiveSource;
  revision: number;
  compactRevision: number;
  contents: ArchiveContents;
  compression: { codec: string; level: number };
  /** Size at which the writer closed chunk entries. */
  chunkBytes: number;
}

/** What a source knows; the writer adds format, tool, compression and chunking. */
export interface ManifestInput {
  toolVersion: string;
  /** Defaults to now. */
  createdAt?: Date;
  source: ArchiveSource;
  revision: number;
  compactRevision: number;
  /** Defaults to `history`. */
  contents?: ArchiveContents;
}

/** A 64-bit ID the way the manifest spells it. */
export function idToHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

const hexId = /^[0-9a-f]{1,16}$/;

function asHexId(value: unknown, field: string): string {
  const text = asString(value, field);
  if (!hexId.test(text)) throw new Error(`${field} '${text}' is not a hexadecimal 64-bit ID`);
  return text;
}

/**
 * Whether etcd's HashKV at the snapshot revision can only be had from the records: a compacted
 * history written before format 1.1, whose trailer has no `hashKV.etcdHash`. (Without a
 * compaction the history hash is etcd's; a `latest` archive has neither.)
 */
export function etcdHashNeedsRecords(manifest: ArchiveManifest): boolean {
  if (manifest.contents !== 'history' || manifest.compactRevision === 0) return false;
  return (parseFormatVersion(manifest.formatVersion)?.minor ?? 0) < 1;
}

export function parseFormatVersion(text: string): { major: number; minor: number } | undefined {
  const match = /^(\d{1,6})\.(\d{1,6})$/.exec(text);
  return match === null ? undefined : { major: Number(match[1]), minor: Number(match[2]) };
}

/**
 * Rejects what this reader cannot read, before any other field is looked at: a later major
 * version may change every other field.
 */
export function checkFormat(obj: JsonObject): void {
  if (obj.format !== FORMAT_NAME) throw new Error(`not a Strata archive (manifest format is ${JSON.stringify(obj.format)})`);
  const text = asString(obj.formatVersion, 'manifest formatVersion');
  const version = parseFormatVersion(text);
  if (version === undefined) throw new Error(`manifest formatVersion '${text}' is not MAJOR.MINOR`);
  if (version.major !== FORMAT_MAJOR) {
    throw new Error(`unsupported format version ${text} (this strata reads ${FORMAT_MAJOR}.x; use a strata release that reads ${version.major}.x)`);
  }
}

function parseMember(value: unknown, field: string): ArchiveMember {
  const m = asObject(value, field);
  return {
    id: asHexId(m.id, `${field}.id`),
    name: asString(m.name, `${field}.name`),
    peerURLs: asStringArray(m.peerURLs, `${field}.peerURLs`),
    clientURLs: asStringArray(m.clientURLs, `${field}.clientURLs`),
    isLearner: asBoolean(m.isLearner, `${field}.isLearner`),
  };
}

function parseSource(value: unknown): ArchiveSource {
  const s = asObject(value, 'manifest source');
  const source: ArchiveSource = {
    kind: asString(s.kind, 'source.kind'),
    clusterId: asHexId(s.clusterId, 'source.clusterId'),
    members: asArray(s.members, 'source.members').map((m, i) => parseMember(m, `source.members[${i}]`)),
  };
  if (s.endpoints !== undefined) source.endpoints = asStringArray(s.endpoints, 'source.endpoints');
  const optionalText = ['endpoint', 'dataDir', 'path', 'serverVersion', 'prefix'] as const;
  for (const key of optionalText) {
    const text = asOptionalString(s[key], `source.${key}`);
    if (text !== undefined) source[key] = text;
  }
  if (s.memberId !== undefined) source.memberId = asHexId(s.memberId, 'source.memberId');
  return source;
}

/** Validates a decoded manifest object; keeps fields a newer minor version added. */
export function parseManifest(obj: JsonObject): ArchiveManifest {
  checkFormat(obj);
  const tool = asObject(obj.tool, 'manifest tool');
  const compression = asObject(obj.compression, 'manifest compression');
  const createdAt = asString(obj.createdAt, 'manifest createdAt');
  if (Number.isNaN(Date.parse(createdAt))) throw new Error(`manifest createdAt '${createdAt}' is not a time`);
  const contents = asString(obj.contents, 'manifest contents');
  if (contents !== 'history' && contents !== 'latest') throw new Error(`manifest contents '${contents}' is neither history nor latest`);
  const revision = asCount(obj.revision, 'manifest revision');
  const compactRevision = asCount(obj.compactRevision, 'manifest compactRevision');
  if (compactRevision > revision) {
    throw new Error(`manifest compactRevision ${compactRevision} is above its revision ${revision}`);
  }
  return {
    ...obj,
    format: FORMAT_NAME,
    formatVersion: asString(obj.formatVersion, 'manifest formatVersion'),
    tool: { ...tool, name: asString(tool.name, 'tool.name'), version: asString(tool.version, 'tool.version') },
    createdAt,
    source: parseSource(obj.source),
    revision,
    compactRevision,
    contents,
    compression: {
      ...compression,
      codec: asString(compression.codec, 'compression.codec'),
      level: asCount(compression.level, 'compression.level'),
    },
    chunkBytes: asCount(obj.chunkBytes, 'manifest chunkBytes'),
  };
}

export function buildManifest(input: ManifestInput, compression: { codec: string; level: number }, chunkBytes: number): ArchiveManifest {
  const manifest: ArchiveManifest = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    tool: { name: 'strata', version: input.toolVersion },
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    source: input.source,
    revision: input.revision,
    compactRevision: input.compactRevision,
    contents: input.contents ?? 'history',
    compression,
    chunkBytes,
  };
  // The writer refuses what a reader would refuse, so a bad source fails at save time.
  return parseManifest(JSON.parse(JSON.stringify(manifest)) as JsonObject);
}
