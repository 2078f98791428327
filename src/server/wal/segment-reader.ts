import { open, type FileHandle } from 'node:fs/promises';
import { crc32c } from '../../util/crc32c.js';
import {
  MAX_RECORD_BYTES,
  RECORD_HEADER_BYTES,
  RecordType,
  SEGMENT_MAGIC,
  decodePayload,
  isRecordType,
  lengthCrc,
  type WalRecord,
} from './record.js';

export type ReadOutcome =
  | { kind: 'record'; offset: number; record: WalRecord }
  | { kind: 'end' }
  /**
   * A record that does not check out. `tornCandidate`: everything from `offset` on could be
   * the remains of an interrupted final write (a prefix of a record, or a bad record followed
   * only by zeroes); only the last segment may be repaired on that ground.
   */
  | { kind: 'bad'; offset: number; reason: string; tornCandidate: boolean };

const WINDOW_BYTES = 1024 * 1024;

/**
 * Reads a segment's records in order through a bounded window, verifying the CRC chain.
 * Windows are never reused, so the payloads handed out stay valid.
 */
export class SegmentReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  private pos: number;

  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    start: number,
    /** Running CRC; undefined until a crc record seeds it (the first segment read). */
    public crc: number | undefined,
  ) {
    this.pos = start;
  }

  /** Opens `path` at `offset` (0: the start, where the magic is checked). */
  static async open(path: string, offset: number, crc: number | undefined): Promise<SegmentReader> {
    const handle = await open(path, 'r');
    const { size } = await handle.stat();
    return new SegmentReader(handle, size, offset === 0 ? SEGMENT_MAGIC.length : offset, crc);
  }

  /** False when the file does not start with the segment magic. */
  async hasMagic(): Promise<boolean> {
    const head = Buffer.alloc(SEGMENT_MAGIC.length);
    const { bytesRead } = await this.handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(SEGMENT_MAGIC);
  }

  get offset(): number {
    return this.pos;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /** Makes bytes [pos, pos + n) available if the file has them; returns how many are. */
  private async ensure(n: number): Promise<number> {
    const have = this.windowStart + this.window.length - this.pos;
    if (have >= n) return n;
    const want = Math.min(Math.max(n, WINDOW_BYTES), this.size - this.pos);
    const next = Buffer.allocUnsafe(Math.max(want, 0));
    const keep = Math.max(have, 0);
    if (keep > 0) this.window.copy(next, 0, this.pos - this.windowStart);
    let filled = keep;
    while (filled < next.length) {
      const { bytesRead } = await this.handle.read(next, filled, next.length - filled, this.pos + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.window = next.subarray(0, filled);
    this.windowStart = this.pos;
    return Math.min(filled, n);
  }

  private bytes(offset: number, length: number): Buffer {
    const at = offset - this.windowStart;
    return this.window.subarray(at, at + length);
  }

  /** True when every byte from `offset` to the end of the file is zero. */
  async zeroesFrom(offset: number): Promise<boolean> {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (let at = offset; at < this.size; ) {
      const { bytesRead } = await this.handle.read(chunk, 0, Math.min(chunk.length, this.size - at), at);
      if (bytesRead === 0) return true;
      for (let i = 0; i < bytesRead; i++) if (chunk[i] !== 0) return false;
      at += bytesRead;
    }
    return true;
  }

  async next(): Promise<ReadOutcome> {
    const offset = this.pos;
    if (offset >= this.size) return { kind: 'end' };
    if ((await this.ensure(RECORD_HEADER_BYTES)) < RECORD_HEADER_BYTES) {
      return { kind: 'bad', offset, reason: 'truncated record header', tornCandidate: true };
    }
    const header = this.bytes(offset, RECORD_HEADER_BYTES);
    const length = header.readUInt32LE(0);
    const stored = header.readUInt32LE(8);
    const type = header[12]!;
    const end = offset + RECORD_HEADER_BYTES + length;
    if (header.readUInt32LE(4) !== lengthCrc(header, 0) || length > MAX_RECORD_BYTES) {
      const reason = `bad record length ${length}`;
      return { kind: 'bad', offset, reason, tornCandidate: await this.zeroesFrom(offset + RECORD_HEADER_BYTES) };
    }
    if (end > this.size) {
      return { kind: 'bad', offset, reason: `record of ${length} bytes runs past the end of the file`, tornCandidate: true };
    }
    const bad = async (reason: string): Promise<ReadOutcome> => ({
      kind: 'bad',
      offset,
      reason,
      tornCandidate: await this.zeroesFrom(end),
    });
    if (!isRecordType(type)) return bad(`unknown record type ${type}`);
    await this.ensure(RECORD_HEADER_BYTES + length);
    const typeAndPayload = this.bytes(offset + RECORD_HEADER_BYTES - 1, 1 + length);
    const isCrc = type === RecordType.crc;
    if (!isCrc && offset === SEGMENT_MAGIC.length) return bad('the segment does not start with a crc record');
    if (crc32c(typeAndPayload, isCrc ? 0 : (this.crc ?? 0)) !== stored) return bad('CRC mismatch');
    let record: WalRecord;
    try {
      record = decodePayload(type, typeAndPayload.subarray(1));
    } catch (err) {
      return bad(`malformed record: ${(err as Error).message}`);
    }
    if (record.type === RecordType.crc) {
      if (this.crc !== undefined && record.crc !== this.crc) {
        return { kind: 'bad', offset, reason: 'CRC chain broken (the segment does not follow the previous one)', tornCandidate: false };
      }
      this.crc = record.crc;
    } else {
      this.crc = stored;
    }
    this.pos = end;
    return { kind: 'record', offset, record };
  }
}
