/**
 * Decoded shapes of the etcd responses that src/api/etcd-types.ts does not describe yet,
 * plus the request shapes the client accepts (keys as text or bytes, 64-bit numbers as
 * decimal strings or bigint).
 */
import type {
  AlarmMember,
  Compare,
  DeleteRangeRequest,
  Int64,
  Member,
  PutRequest,
  RangeRequest,
  ResponseHeader,
} from '../api/etcd-types.js';
import type { Bytes } from './keys.js';

/** A 64-bit ID or revision as the client accepts it: never a lossy number for IDs. */
export type Id64 = bigint | string;

export type RangeInput = Partial<Omit<RangeRequest, 'key' | 'range_end'>> & { key: Bytes; range_end?: Bytes | undefined };
export type PutInput = Partial<Omit<PutRequest, 'key' | 'value' | 'lease'>> & { key: Bytes; value?: Bytes; lease?: Id64 };
export type DeleteInput = Partial<Omit<DeleteRangeRequest, 'key' | 'range_end'>> & {
  key: Bytes;
  range_end?: Bytes | undefined;
};

/** A txn operation; keys must already be bytes (protobuf would read a string as base64). */
export type TxnOpInput =
  | { request_range: Partial<RangeRequest> & { key: Buffer } }
  | { request_put: Partial<PutRequest> & { key: Buffer } }
  | { request_delete_range: Partial<DeleteRangeRequest> & { key: Buffer } }
  | { request_txn: TxnInput };

export interface TxnInput {
  compare?: Array<Partial<Compare> & Pick<Compare, 'key' | 'result' | 'target'>>;
  success?: TxnOpInput[];
  failure?: TxnOpInput[];
}

export interface HeaderOnly {
  header: ResponseHeader | null;
}

export interface LeaseGrantResponse {
  header: ResponseHeader | null;
  ID: Int64;
  TTL: Int64;
  error: string;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader | null;
  ID: Int64;
  TTL: Int64;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader | null;
  ID: Int64;
  TTL: Int64;
  grantedTTL: Int64;
  keys: Buffer[];
}

export interface LeaseLeasesResponse {
  header: ResponseHeader | null;
  leases: Array<{ ID: Int64 }>;
}

export interface MemberListResponse {
  header: ResponseHeader | null;
  members: Member[];
}

export interface MemberAddResponse {
  header: ResponseHeader | null;
  member: Member | null;
  members: Member[];
}

export interface HashResponse {
  header: ResponseHeader | null;
  hash: number;
}

export interface AlarmResponse {
  header: ResponseHeader | null;
  alarms: AlarmMember[];
}

export type AlarmAction = 'GET' | 'ACTIVATE' | 'DEACTIVATE';
