import { IntegrityError } from '../../util/errors.js';
import type { StoredMember } from '../backend/members.js';

/**
 * A member as JSON bytes: the context of a membership conf change entry and the body of the
 * peer listener's /members answer. IDs travel as decimal strings (JSON numbers lose uint64 bits).
 */
interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export function memberToJson(m: StoredMember): MemberJson {
  return { id: m.id.toString(), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

export function memberFromJson(value: unknown, what: string): StoredMember {
  const m = value as Partial<MemberJson> | null;
  if (
    m === null ||
    typeof m !== 'object' ||
    typeof m.id !== 'string' ||
    !/^[0-9]+$/.test(m.id) ||
    !Array.isArray(m.peerURLs) ||
    !Array.isArray(m.clientURLs)
  ) {
    throw new IntegrityError(`Cannot read ${what}: it is not a member record (id, peerURLs, clientURLs)`);
  }
  return {
    id: BigInt(m.id),
    name: typeof m.name === 'string' ? m.name : '',
    peerUrls: m.peerURLs.map(String),
    clientUrls: m.clientURLs.map(String),
    isLearner: m.isLearner === true,
  };
}

export function encodeMember(m: StoredMember): Uint8Array {
  return Buffer.from(JSON.stringify(memberToJson(m)));
}

export function decodeMember(bytes: Uint8Array, what: string): StoredMember {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new IntegrityError(`Cannot read ${what}: it is not JSON`);
  }
  return memberFromJson(parsed, what);
}
