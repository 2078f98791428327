import { ArchiveWriter, idToHex, type ArchiveMember } from '../../archive/index.js';
import type { KeyValue } from '../../api/etcd-types.js';
import { StrataError, errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { writerStream, type ArchiveStream } from './archive-stream.js';
import type { PickedMember } from './pick-member.js';

const PAGE = 1000;

export interface RangeArchiveOptions {
  toolVersion: string;
  endpoints: string[];
  prefix?: string;
  level?: number;
  logger: Logger;
  /** Keys per Range request (default 1000). */
  pageSize?: number;
  /** Awaited after each page is archived, before the next is requested (progress; tests act between pages). */
  onPage?: (page: { revision: number; pages: number; keys: number }) => Promise<void> | void;
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
 * A logical `latest` snapshot: Range pinned at one revision, read in mod-revision order a page
 * at a time (so records come out in revision order with bounded memory), plus the lease list.
 * Keys sharing a mod revision get sub revisions 0, 1, 2… in key order.
 */
export async function rangeArchive(member: PickedMember, options: RangeArchiveOptions): Promise<ArchiveStream> {
  const client = member.client;
  const pageSize = options.pageSize ?? PAGE;
  // etcd needs a key: all keys are [\0, \0).
  const key = options.prefix ? Buffer.from(options.prefix) : Buffer.from([0]);
  const end = options.prefix ? rangeEnd(key) : Buffer.from([0]);
  const first = await client.range({ key, range_end: end, limit: '1', count_only: true });
  const revision = Number(first.header?.revision ?? 0);
  const members = await client.memberList();
  const status = await client.hashKV('0').catch(() => undefined);
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
      compactRevision: Math.max(0, Number(status?.compact_revision ?? 0)),
      contents: 'latest',
    },
    logger: options.logger,
    ...(options.level !== undefined ? { level: options.level } : {}),
  });
  const flush = async (group: KeyValue[]): Promise<void> => {
    group.sort((a, b) => Buffer.compare(a.key, b.key));
    let sub = 0;
    for (const kv of group) {
      const main = Number(kv.mod_revision);
      await writer.writeRecord({
        main,
        sub: sub++,
        tombstone: false,
        kv: { key: kv.key, createRevision: Number(kv.create_revision), modRevision: main, version: Number(kv.version), value: kv.value, lease: BigInt(kv.lease) },
      });
    }
  };
  const produce = async (): Promise<void> => {
    let group: KeyValue[] = [];
    let groupMain = 0;
    const seen = new Set<string>();
    let pages = 0;
    let keys = 0;
    for (;;) {
      let page;
      try {
        page = await client.range({
          key,
          range_end: end,
          revision: String(revision),
          sort_order: 'ASCEND',
          sort_target: 'MOD',
          min_mod_revision: String(groupMain),
          limit: String(pageSize),
        });
      } catch (err) {
        if (/compacted/.test(errorMessage(err))) throw new RangeCompactedError(member.endpoint, revision);
        throw err;
      }
      let advanced = false;
      for (const kv of page.kvs) {
        const main = Number(kv.mod_revision);
        if (main === groupMain) {
          const id = kv.key.toString('latin1');
          if (seen.has(id)) continue;
          seen.add(id);
          group.push(kv);
          advanced = true;
          continue;
        }
        await flush(group);
        group = [kv];
        groupMain = main;
        seen.clear();
        seen.add(kv.key.toString('latin1'));
        advanced = true;
      }
      pages++;
      keys += page.kvs.length;
      await options.onPage?.({ revision, pages, keys });
      if (!page.more) break;
      if (!advanced) throw new StrataError('STRATA_RANGE_PAGE', `Cannot page through ${member.endpoint}: more than ${pageSize} keys share revision ${groupMain}`);
    }
    await flush(group);
    const leases = await client.leaseLeases();
    for (const { ID } of leases.leases) {
      const ttl = await client.leaseTimeToLive(ID).catch(() => undefined);
      if (ttl === undefined || Number(ttl.TTL) < 0) continue;
      await writer.writeLease({ id: BigInt(ID), grantedTtl: Number(ttl.grantedTTL), remainingTtl: Number(ttl.TTL) });
    }
  };
  return writerStream(writer, produce, () => undefined);
}
