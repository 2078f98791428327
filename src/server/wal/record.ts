import { crc32c } from '../../util/crc32c.js';
import type { HardState, SnapshotMarker, WalEntry } from './types.js';
import { readU64, writeU64 } from './u64.js';

/**
 * The on-disk record framing of a WAL segment:
 *   segment = MAGIC record*
 *   record  = length:u32le lengthCrc:u32le crc:u32le type:u8 payload[length]
 * lengthCrc guards the length on its own: a torn write may leave a record running past the
 * end of the file, and only a checked length tells that apart from a corrupted one (which
 * would otherwise pass for a torn tail and silently drop the records after it).
 * The type byte sits right before the payload so one CRC pass covers both. Each record's CRC
 * continues from the previous record's (etcd's chaining), and every segment opens with a crc
 * record carrying the running CRC, so a segment swapped in from elsewhere breaks the chain.
 */
export const SEGMENT_MAGIC = Buffer.from('STRWAL\x00\x01', 'latin1');
export const RECORD_HEADER_BYTES = 13;
/** No record is larger; a length above it is corruption, not data. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export const RecordType = {
  metadata: 1,
  entry: 2,
  hardState: 3,
  snapshot: 4,
  crc: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export function isRecordType(value: number): value is RecordType {
  return value >= RecordType.metadata && value <= RecordType.crc;
}

export type WalRecord =
  | { type: typeof RecordType.metadata; metadata: Buffer }
  | { type: typeof RecordType.entry; entry: WalEntry }
  | { type: typeof RecordType.hardState; hardState: HardState }
  | { type: typeof RecordType.snapshot; snapshot: SnapshotMarker }
  | { type: typeof RecordType.crc; crc: number };

function payloadLength(record: WalRecord): number {
  switch (record.type) {
    case RecordType.metadata:
      return record.metadata.length;
    case RecordType.entry:
      return 17 + record.entry.data.length;
    case RecordType.hardState:
      return 24;
    case RecordType.snapshot:
      return 16;
    case RecordType.crc:
      return 4;
  }
}

function writePayload(record: WalRecord, buf: Buffer, at: number): void {
  switch (record.type) {
    case RecordType.metadata:
      buf.set(record.metadata, at);
      return;
    case RecordType.entry: {
      const { term, index, type, data } = record.entry;
      writeU64(buf, at, term);
      writeU64(buf, at + 8, index);
      buf[at + 16] = type;
      buf.set(data, at + 17);
      return;
    }
    case RecordType.hardState:
      writeU64(buf, at, record.hardState.term);
      buf.writeBigUInt64LE(record.hardState.vote, at + 8);
      writeU64(buf, at + 16, record.hardState.commit);
      return;
    case RecordType.snapshot:
      writeU64(buf, at, record.snapshot.term);
      writeU64(buf, at + 8, record.snapshot.index);
      return;
    case RecordType.crc:
      buf.writeUInt32LE(record.crc, at);
      return;
  }
}

/** The check of the length field of the record header at `at`. */
export function lengthCrc(buf: Buffer, at: number): number {
  return crc32c(buf.subarray(at, at + 4));
}

/**
 * Frames `records` into one buffer, chaining CRCs from `prevCrc`; a crc record restarts the
 * chain from the value it carries. Returns the bytes and the running CRC after them.
 */
export function encodeRecords(records: readonly WalRecord[], prevCrc: number): { bytes: Buffer; crc: number } {
  let total = 0;
  for (const record of records) {
    const length = payloadLength(record);
    if (length > MAX_RECORD_BYTES) {
      throw new RangeError(`WAL record of ${length} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`);
    }
    total += RECORD_HEADER_BYTES + length;
  }
  const bytes = Buffer.allocUnsafe(total);
  let crc = prevCrc;
  let at = 0;
  for (const record of records) {
    const length = payloadLength(record);
    bytes.writeUInt32LE(length, at);
    bytes.writeUInt32LE(lengthCrc(bytes, at), at + 4);
    bytes[at + 12] = record.type;
    writePayload(record, bytes, at + RECORD_HEADER_BYTES);
    const end = at + RECORD_HEADER_BYTES + length;
    const checksum = crc32c(bytes.subarray(at + 12, end), record.type === RecordType.crc ? 0 : crc);
    bytes.writeUInt32LE(checksum, at + 8);
    crc = record.type === RecordType.crc ? record.crc : checksum;
    at = end;
  }
  return { bytes, crc };
}

/** Decodes a payload whose frame and CRC were already checked; throws RangeError on a bad shape. */
export function decodePayload(type: RecordType, payload: Buffer): WalRecord {
  const need = (n: number): void => {
    if (payload.length < n) throw new RangeError(`payload of ${payload.length} bytes is shorter than ${n}`);
  };
  switch (type) {
    case RecordType.metadata:
      return { type, metadata: payload };
    case RecordType.entry:
      need(17);
      return {
        type,
        entry: { term: readU64(payload, 0), index: readU64(payload, 8), type: payload[16]!, data: payload.subarray(17) },
      };
    case RecordType.hardState:
      need(24);
      return {
        type,
        hardState: { term: readU64(payload, 0), vote: payload.readBigUInt64LE(8), commit: readU64(payload, 16) },
      };
    case RecordType.snapshot:
      need(16);
      return { type, snapshot: { term: readU64(payload, 0), index: readU64(payload, 8) } };
    case RecordType.crc:
      need(4);
      return { type, crc: payload.readUInt32LE(0) };
  }
}
