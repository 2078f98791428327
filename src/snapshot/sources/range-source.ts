import { ArchiveWriter, idToHex, type ArchiveMember, type ArchiveRecord } from '../../archive/index.js';
import { decodeKeyValue, encodeKeyValue, type StoredKeyValue } from '../../api/mvccpb.js';
import type { KeyValue } from '../../api/etcd-types.js';
import { StrataError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { SpillingSorter } from '../../util/spilling-sorter.js';
import type { SpillSettings } from '../../util/temp-files.js';
import { writerStream, type ArchiveStream } from './archive-stream.js';
import { findCompactRevision, isCompactedError } from './compact-revision.js';
import type { PickedMember } from './pick-member.js';

/**
 * Pages start at FIRST_PAGE_KEYS keys and then take about PAGE_BYTES of keys and values. etcd
 * 3.4 walks its key index from a page's first key to the end of the range for every page, so
 * the number of pages is what a large keyspace pays for: 1M keys of 150-byte values took 410 s
 * in pages of 1,000 keys.
 */
const FIRST_PAGE_KEYS = 1000;
const PAGE_BYTES = 2 * 2 ** 20;
const MAX_PAGE_KEYS = 100_000;

export interface RangeArchiveOptions {
  toolVersion: string;
  endpoints: string[];
  prefix?: string;
  level?: number;
  logger: Logger;
  /** Keys per Range request, fixed (tests); by default pages grow to about 2 MiB. */
  pageSize?: number;
  /** Where the keys go while they are sorted, and how much memory they may take first (tests). */
  spill?: SpillSettings;
  /** Awaited after each page is read, before the next is requested (progress; tests act between pages). */
  onPage?: (page: { revision: number; pages: number; keys: number; bytes: number; totalKeys: number }) => Promise<void> | void;
}

/** The pinned revision was compacted while the read ran: save starts once more. */
export class RangeCompactedError extends StrataError {
  constructor(endpoint: string, revision: number) {
    super('STRATA_RANGE_COMPACTED', `Cannot read ${endpoint} at revision ${revision}: it was compacted during the read; run the save again or compact less often`);
  }
}

function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/**
 * A logical `latest` snapshot: Range pinned at one revision, read a page at a time in key order
 * and put in revision order by a sort that spills to temporary files (so memory stays bounded),
 * plus the lease list.
 */
export async function rangeArchive(member: PickedMember, options: RangeArchiveOptions): Promise<ArchiveStream> {
  const client = member.client;
  // etcd needs a key: all keys are [\0, \0).
  const key = options.prefix ? Buffer.from(options.prefix) : Buffer.from([0]);
  const end = options.prefix ? rangeEnd(key) : Buffer.from([0]);
  const first = await client.range({ key, range_end: end, limit: '1', count_only: true });
  const revision = Number(first.header?.revision ?? 0);
  const total = Number(first.count ?? 0);
  // Every key is handled twice, read and then archived: the progress bar counts both.
  let keysRead = 0;
  let keysArchived = 0;
  const members = await client.memberList();
  const compactRevision = await findCompactRevision(client, key, revision);
  const archiveMembers: ArchiveMember[] = members.members.map((m) => ({
    id: idToHex(BigInt(m.ID)),
    name: m.name,
    peerURLs: m.peerURLs,
    clientURLs: m.clientURLs,
    isLearner: m.isLearner,
  }));
  const writer = new ArchiveWriter({
    manifest: {
      toolVersion: options.toolVersion,
      source: {
        kind: 'range',
        endpoints: options.endpoints,
        endpoint: member.endpoint,
        clusterId: idToHex(member.clusterId),
        memberId: idToHex(member.memberId),
        members: archiveMembers,
        serverVersion: member.serverVersion,
        ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
      },
      revision,
      compactRevision,
      contents: 'latest',
    },
    logger: options.logger,
    ...(options.level !== undefined ? { level: options.level } : {}),
  });
  // Pages in key order, which etcd serves a page at a time; asking for mod-revision order made
  // etcd sort the whole range for every page (100k keys took 24 s, a million would take 40 min).
  const readInKeyOrder = async (sorter: SpillingSorter): Promise<void> => {
    let from = key;
    let pages = 0;
    let bytes = 0;
    let pageSize = options.pageSize ?? FIRST_PAGE_KEYS;
    for (;;) {
      let page;
      try {
        page = await client.range({ key: from, range_end: end, revision: String(revision), limit: String(pageSize) });
      } catch (err) {
        if (isCompactedError(err)) throw new RangeCompactedError(member.endpoint, revision);
        throw err;
      }
      for (const kv of page.kvs) {
        const payload = encodeKeyValue(storedKeyValue(kv));
        sorter.add(Number(kv.mod_revision), kv.key, payload);
        bytes += payload.length;
      }
      pages++;
      keysRead += page.kvs.length;
      await options.onPage?.({ revision, pages, keys: keysRead, bytes, totalKeys: total });
      const last = page.kvs.at(-1);
      if (!page.more || last === undefined) break;
      if (options.pageSize === undefined) pageSize = Math.max(FIRST_PAGE_KEYS, Math.min(MAX_PAGE_KEYS, Math.floor((PAGE_BYTES * keysRead) / Math.max(bytes, 1))));
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
  };
  const produce = async (): Promise<void> => {
    const sorter = new SpillingSorter({ ...options.spill, purpose: `save a Range snapshot of ${member.endpoint}` });
    try {
      await readInKeyOrder(sorter);
      await writer.writeRecords(inRevisionOrder(sorter, () => keysArchived++));
    } finally {
      sorter.close();
    }
    const leases = await client.leaseLeases();
    for (const { ID } of leases.leases) {
      const ttl = await client.leaseTimeToLive(ID).catch(() => undefined);
      if (ttl === undefined || Number(ttl.TTL) < 0) continue;
      await writer.writeLease({ id: BigInt(ID), grantedTtl: Number(ttl.grantedTTL), remainingTtl: Number(ttl.TTL) });
    }
  };
  const stream = writerStream(writer, produce, () => undefined);
  return { ...stream, progress: () => (total > 0 ? Math.min((keysRead + keysArchived) / (2 * total), 1) : writer.progress) };
}

function storedKeyValue(kv: KeyValue): StoredKeyValue {
  return {
    key: kv.key,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    value: kv.value,
    lease: BigInt(kv.lease),
  };
}

/** The sorted keys as archive records: keys sharing a mod revision get sub revisions 0, 1, 2… in key order. */
function* inRevisionOrder(sorter: SpillingSorter, onRecord: () => void): Generator<ArchiveRecord> {
  let main = 0;
  let sub = 0;
  for (const { order, payload } of sorter.sorted()) {
    sub = order === main ? sub + 1 : 0;
    main = order;
    onRecord();
    yield { main, sub, tombstone: false, kv: decodeKeyValue(payload), kvBytes: payload };
  }
}
