import { IntegrityError } from '../../util/errors.js';

/**
 * The entry a member proposes once it has a leader to publish its name and client URLs,
 * as etcd publishes its attributes through the log, so every member lists every member's
 * client URLs. Its first byte sets it apart from request entries (see log-entry.ts).
 *
 *   byte 0      0xfe
 *   bytes 1..8  member ID, big-endian
 *   bytes 9..   JSON { name, clientURLs }
 */
const TAG = 0xfe;

export interface MemberAttributes {
  memberId: bigint;
  name: string;
  clientUrls: string[];
}

export function isMemberAttributesEntry(data: Uint8Array): boolean {
  return data[0] === TAG;
}

export function encodeMemberAttributes(a: MemberAttributes): Buffer {
  const body = Buffer.from(JSON.stringify({ name: a.name, clientURLs: a.clientUrls }));
  const out = Buffer.alloc(9 + body.length);
  out[0] = TAG;
  out.writeBigUInt64BE(a.memberId, 1);
  body.copy(out, 9);
  return out;
}

export function decodeMemberAttributes(data: Uint8Array): MemberAttributes {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    const body = JSON.parse(buf.subarray(9).toString('utf8')) as { name: unknown; clientURLs: unknown };
    if (typeof body.name !== 'string' || !Array.isArray(body.clientURLs)) throw new Error('bad shape');
    return { memberId: buf.readBigUInt64BE(1), name: body.name, clientUrls: body.clientURLs.map(String) };
  } catch {
    throw new IntegrityError('Cannot apply log entry: a member attributes entry is malformed');
  }
}
