import { messageCodec, type MessageCodec } from '../../api/etcd-messages.js';
import type { InternalRequest } from '../apply/internal-request.js';
import { IntegrityError } from '../../util/errors.js';

/**
 * The bytes of one log entry: which request it carries, the proposer's request ID (so the
 * member that proposed it can answer its client once it is applied), and the request as the
 * etcd API message, so the log speaks the same contract as the wire.
 *
 *   byte 0      kind
 *   bytes 1..8  request ID, big-endian
 *   bytes 9..   protobuf message
 */
const kinds = ['put', 'deleteRange', 'txn', 'compaction', 'leaseGrant', 'leaseRevoke', 'leaseCheckpoint', 'alarm'] as const;
type Kind = (typeof kinds)[number];

const codecs: { [K in Kind]?: MessageCodec<unknown> } = {};
function codec(kind: Kind): MessageCodec<unknown> {
  const names: Record<Kind, string> = {
    put: 'PutRequest',
    deleteRange: 'DeleteRangeRequest',
    txn: 'TxnRequest',
    compaction: 'CompactionRequest',
    leaseGrant: 'LeaseGrantRequest',
    leaseRevoke: 'LeaseRevokeRequest',
    leaseCheckpoint: 'LeaseCheckpointRequest',
    alarm: 'AlarmRequest',
  };
  return (codecs[kind] ??= messageCodec(`etcdserverpb.${names[kind]}`));
}

function toMessage(request: InternalRequest): unknown {
  switch (request.kind) {
    case 'put':
      return request.put;
    case 'deleteRange':
      return request.deleteRange;
    case 'txn':
      return request.txn;
    case 'compaction':
      return request.compaction;
    case 'leaseGrant':
      return { ID: request.id.toString(), TTL: String(request.ttl) };
    case 'leaseRevoke':
      return { ID: request.id.toString() };
    case 'leaseCheckpoint':
      return {
        checkpoints: request.checkpoints.map((c) => ({ ID: c.id.toString(), remaining_TTL: String(c.remainingTtl) })),
      };
    case 'alarm':
      return { action: request.action, memberID: request.memberId.toString(), alarm: request.alarm };
  }
}

type Decoded = Record<string, unknown>;

function fromMessage(kind: Kind, m: Decoded): InternalRequest {
  switch (kind) {
    case 'put':
      return { kind, put: m as never };
    case 'deleteRange':
      return { kind, deleteRange: m as never };
    case 'txn':
      return { kind, txn: m as never };
    case 'compaction':
      return { kind, compaction: m as never };
    case 'leaseGrant':
      return { kind, id: BigInt(m['ID'] as string), ttl: Number(m['TTL']) };
    case 'leaseRevoke':
      return { kind, id: BigInt(m['ID'] as string) };
    case 'leaseCheckpoint':
      return {
        kind,
        checkpoints: (m['checkpoints'] as Decoded[]).map((c) => ({
          id: BigInt(c['ID'] as string),
          remainingTtl: Number(c['remaining_TTL']),
        })),
      };
    case 'alarm':
      return {
        kind,
        action: m['action'] as never,
        memberId: BigInt(m['memberID'] as string),
        alarm: m['alarm'] as never,
      };
  }
}

export interface LogEntryPayload {
  requestId: bigint;
  request: InternalRequest;
}

export function encodeLogEntry(requestId: bigint, request: InternalRequest): Buffer {
  const body = codec(request.kind).encode(toMessage(request));
  const out = Buffer.allocUnsafe(9 + body.length);
  out[0] = kinds.indexOf(request.kind);
  out.writeBigUInt64BE(requestId, 1);
  body.copy(out, 9);
  return out;
}

export function decodeLogEntry(data: Uint8Array): LogEntryPayload {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const kind = kinds[buf[0] ?? 255];
  if (buf.length < 9 || kind === undefined) {
    throw new IntegrityError(`Cannot apply log entry: unknown request kind ${buf[0] ?? '(empty entry)'}`);
  }
  return { requestId: buf.readBigUInt64BE(1), request: fromMessage(kind, codec(kind).decode(buf.subarray(9)) as Decoded) };
}
