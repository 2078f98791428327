import type { Message } from '../../raft/index.js';
import { StrataError } from '../../util/errors.js';
import { decodeMessages, encodeMessages } from './message-codec.js';

/** Each frame on a peer stream: a 4-byte big-endian length, then that many bytes of an encoded message batch. */
const PREFIX_BYTES = 4;

export function encodeFrame(messages: readonly Message[]): Buffer {
  const body = encodeMessages(messages);
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, PREFIX_BYTES);
  return frame;
}

/**
 * Cuts a peer stream's bytes, arriving in arbitrary chunks, back into message batches. A frame
 * announcing more than `maxFrameBytes` is refused before its bytes are buffered.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** The batches `chunk` completes, in order; throws on an oversized frame or an undecodable batch. */
  push(chunk: Buffer): Message[][] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const batches: Message[][] = [];
    while (this.buffered >= PREFIX_BYTES) {
      const head = this.contiguous(PREFIX_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        throw new StrataError('STRATA_PEER_FRAME', `A peer sent a raft message frame of ${length} bytes, over the limit of ${this.maxFrameBytes}; check --max-request-bytes on both members`);
      }
      if (this.buffered < PREFIX_BYTES + length) break;
      // The first chunk may hold the next frames too.
      const frame = this.contiguous(PREFIX_BYTES + length);
      this.consume(PREFIX_BYTES + length);
      batches.push(decodeMessages(frame.subarray(PREFIX_BYTES, PREFIX_BYTES + length)));
    }
    return batches;
  }

  /** The first `bytes` buffered bytes as one buffer, joining chunks only when a frame spans them. */
  private contiguous(bytes: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= bytes) return first;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private consume(bytes: number): void {
    const first = this.chunks[0]!;
    if (first.length === bytes) this.chunks.shift();
    else this.chunks[0] = first.subarray(bytes);
    this.buffered -= bytes;
  }
}
