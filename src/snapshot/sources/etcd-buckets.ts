import { ProtoReader, WireType } from '../../api/protowire.js';
import { decodeRevisionKey } from '../../api/revision.js';
import { describeKey } from './bbolt/cursor.js';

/**
 * etcd 3.4's backend buckets besides 'key', decoded from their stored bytes:
 * - meta: consistent_index (u64 BE), scheduledCompactRev / finishedCompactRev (revision keys
 *   with sub 0); 3.5 adds term (u64 BE). 3.4 keeps no current revision here.
 * - lease: key = lease ID (u64 BE), value = leasepb.Lease {ID=1, TTL=2, RemainingTTL=3}; the
 *   remaining TTL is only persisted by lease checkpoints (off by default), else 0.
 * - members: key = member ID in hex, value = JSON {id, peerURLs, isLearner?, name?, clientURLs?}
 *   (the JSON id is a uint64 number, so the key is what we trust); members_removed: hex ID keys.
 * - cluster: clusterVersion. auth: authEnabled (one byte), authRevision (u64 BE);
 *   authUsers / authRoles: name → authpb.User / authpb.Role. alarm: key = etcdserverpb.AlarmMember.
 * The cluster ID is not in the backend (it lives in the WAL), so an image cannot tell it.
 */

export type Problem = (problem: string) => never;

export interface EtcdMetaBucket {
  consistentIndex: bigint | undefined;
  term: bigint | undefined;
  scheduledCompactRevision: number | undefined;
  finishedCompactRevision: number | undefined;
}

export interface EtcdLease {
  id: bigint;
  /** Granted TTL in seconds. */
  ttl: number;
  /** Seconds left at the last lease checkpoint; 0 when none was persisted. */
  remainingTtl: number;
}

export interface EtcdMember {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface EtcdAlarm {
  memberId: bigint;
  /** etcdserverpb.AlarmType: 1 NOSPACE, 2 CORRUPT. */
  alarm: number;
}

export interface NamedValue {
  name: Buffer;
  value: Buffer;
}

export interface BucketEntry {
  key: Buffer;
  value: Buffer;
}

function u64be(value: Buffer, what: string, fail: Problem): bigint {
  if (value.length !== 8) fail(`${what} is ${value.length} bytes, expected 8`);
  return value.readBigUInt64BE(0);
}

function compactRevision(value: Buffer, what: string, fail: Problem): number {
  const rev = decodeRevisionKey(value);
  if (!rev || rev.tombstone) fail(`${what} is not a revision (0x${value.toString('hex')})`);
  return rev.main;
}

export function decodeMetaBucket(entries: BucketEntry[], fail: Problem): EtcdMetaBucket {
  const meta: EtcdMetaBucket = {
    consistentIndex: undefined,
    term: undefined,
    scheduledCompactRevision: undefined,
    finishedCompactRevision: undefined,
  };
  for (const { key, value } of entries) {
    const name = key.toString('latin1');
    const what = `meta bucket key '${name}'`;
    if (name === 'consistent_index') meta.consistentIndex = u64be(value, what, fail);
    else if (name === 'term') meta.term = u64be(value, what, fail);
    else if (name === 'scheduledCompactRev') meta.scheduledCompactRevision = compactRevision(value, what, fail);
    else if (name === 'finishedCompactRev') meta.finishedCompactRevision = compactRevision(value, what, fail);
  }
  return meta;
}

/** Reads int64 varint fields by number; anything else is skipped. */
function int64Fields(value: Buffer, what: string, fail: Problem): Map<number, bigint> {
  const fields = new Map<number, bigint>();
  try {
    const r = new ProtoReader(value, what);
    while (!r.done) {
      const [field, wireType] = r.tag();
      if (wireType === WireType.varint) fields.set(field, r.int64());
      else r.skip(wireType);
    }
  } catch (err) {
    fail(`${what} does not decode: ${err instanceof Error ? err.message : String(err)}`);
  }
  return fields;
}

export function decodeLease({ key, value }: BucketEntry, fail: Problem): EtcdLease {
  const keyId = u64be(key, `lease bucket key ${describeKey(key)}`, fail);
  const fields = int64Fields(value, `leasepb.Lease ${keyId.toString(16)}`, fail);
  const id = fields.get(1) ?? 0n;
  if (BigInt.asUintN(64, id) !== keyId) fail(`lease ${keyId.toString(16)} is stored under its key but says its ID is ${id.toString(16)}`);
  const ttl = fields.get(2) ?? 0n;
  const remaining = fields.get(3) ?? 0n;
  if (ttl < 0n || ttl > BigInt(Number.MAX_SAFE_INTEGER) || remaining < 0n || remaining > BigInt(Number.MAX_SAFE_INTEGER)) {
    fail(`lease ${keyId.toString(16)} has an impossible TTL (${ttl}, remaining ${remaining})`);
  }
  return { id, ttl: Number(ttl), remainingTtl: Number(remaining) };
}

function memberIdFromKey(key: Buffer, bucket: string, fail: Problem): bigint {
  const text = key.toString('latin1');
  if (!/^[0-9a-f]{1,16}$/.test(text)) fail(`${bucket} bucket key ${describeKey(key)} is not a member ID in hex`);
  return BigInt(`0x${text}`);
}

function stringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

export function decodeMember({ key, value }: BucketEntry, fail: Problem): EtcdMember {
  const id = memberIdFromKey(key, 'members', fail);
  const what = `member ${id.toString(16)}`;
  const text = value.toString('utf8');
  let json: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    json = parsed as Record<string, unknown>;
  } catch (err) {
    return fail(`${what} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  // JSON.parse would round a uint64 above 2^53, so compare the id's digits as written.
  const written = /"id"\s*:\s*(\d+)/.exec(text)?.[1];
  if (written !== undefined && BigInt(written) !== id) fail(`${what} is stored under its key but its JSON says id ${written}`);
  const { name = '', peerURLs = [], clientURLs = [], isLearner = false } = json;
  if (typeof name !== 'string' || !stringArray(peerURLs) || !stringArray(clientURLs) || typeof isLearner !== 'boolean') {
    fail(`${what} has fields of the wrong type in ${describeKey(value)}`);
  }
  return { id, name, peerURLs, clientURLs, isLearner };
}

export function decodeRemovedMember({ key }: BucketEntry, fail: Problem): bigint {
  return memberIdFromKey(key, 'members_removed', fail);
}

export function decodeAlarm({ key }: BucketEntry, fail: Problem): EtcdAlarm {
  const fields = int64Fields(key, 'alarm bucket key (etcdserverpb.AlarmMember)', fail);
  return { memberId: BigInt.asUintN(64, fields.get(1) ?? 0n), alarm: Number(fields.get(2) ?? 0n) };
}

export interface EtcdAuthState {
  enabled: boolean;
  revision: number | undefined;
}

export function decodeAuthBucket(entries: BucketEntry[], fail: Problem): EtcdAuthState {
  const state: EtcdAuthState = { enabled: false, revision: undefined };
  for (const { key, value } of entries) {
    const name = key.toString('latin1');
    if (name === 'authEnabled') {
      if (value.length !== 1 || value[0]! > 1) fail(`auth bucket key 'authEnabled' holds 0x${value.toString('hex')}, expected 00 or 01`);
      state.enabled = value[0] === 1;
    } else if (name === 'authRevision') {
      state.revision = Number(u64be(value, "auth bucket key 'authRevision'", fail));
    }
  }
  return state;
}
