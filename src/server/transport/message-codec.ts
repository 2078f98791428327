import { ProtoReader, ProtoWriter, WireType } from '../../api/protowire.js';
import { message, type Entry, type EntryType, type Message, type MessageType } from '../../raft/index.js';

/**
 * Raft messages between members, in raftpb's field numbers so a capture reads like etcd's:
 * a batch is `repeated Message = 1`. Snapshots never travel in a message (they are streamed
 * separately), so field 9 is neither written nor read.
 */
const F = { type: 1, to: 2, from: 3, term: 4, logTerm: 5, index: 6, entries: 7, commit: 8, reject: 10, rejectHint: 11, context: 12 } as const;

function encodeEntry(e: Entry): Buffer {
  return new ProtoWriter().optionalNumber(1, e.type).optionalNumber(2, e.term).optionalNumber(3, e.index).optionalBytes(4, e.data).finish();
}

function encodeMessage(m: Message): Buffer {
  const w = new ProtoWriter()
    .optionalNumber(F.type, m.type)
    .optionalInt64(F.to, BigInt.asIntN(64, m.to))
    .optionalInt64(F.from, BigInt.asIntN(64, m.from))
    .optionalNumber(F.term, m.term)
    .optionalNumber(F.logTerm, m.logTerm)
    .optionalNumber(F.index, m.index);
  for (const e of m.entries) w.bytes(F.entries, encodeEntry(e));
  return w.optionalNumber(F.commit, m.commit).optionalBool(F.reject, m.reject).optionalNumber(F.rejectHint, m.rejectHint).optionalBytes(F.context, m.context).finish();
}

export function encodeMessages(messages: readonly Message[]): Buffer {
  const w = new ProtoWriter();
  for (const m of messages) w.bytes(1, encodeMessage(m));
  return w.finish();
}

function decodeEntry(buf: Buffer): Entry {
  const r = new ProtoReader(buf, 'raft entry');
  let type = 0;
  let term = 0;
  let index = 0;
  let data: Uint8Array = new Uint8Array(0);
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.varint) type = r.uvarint();
    else if (field === 2 && wire === WireType.varint) term = r.uvarint();
    else if (field === 3 && wire === WireType.varint) index = r.uvarint();
    else if (field === 4 && wire === WireType.bytes) data = new Uint8Array(r.bytes());
    else r.skip(wire);
  }
  return { type: type as EntryType, term, index, data };
}

function decodeMessage(buf: Buffer): Message {
  const r = new ProtoReader(buf, 'raft message');
  const fields: { -readonly [K in keyof Message]?: Message[K] } = {};
  const entries: Entry[] = [];
  let type = 0;
  while (!r.done) {
    const [field, wire] = r.tag();
    if (wire === WireType.bytes) {
      const bytes = r.bytes();
      if (field === F.entries) entries.push(decodeEntry(bytes));
      else if (field === F.context) fields.context = new Uint8Array(bytes);
      continue;
    }
    if (wire !== WireType.varint) {
      r.skip(wire);
      continue;
    }
    switch (field) {
      case F.type: type = r.uvarint(); break;
      case F.to: fields.to = BigInt.asUintN(64, r.int64()); break;
      case F.from: fields.from = BigInt.asUintN(64, r.int64()); break;
      case F.term: fields.term = r.uvarint(); break;
      case F.logTerm: fields.logTerm = r.uvarint(); break;
      case F.index: fields.index = r.uvarint(); break;
      case F.commit: fields.commit = r.uvarint(); break;
      case F.reject: fields.reject = r.uvarint() !== 0; break;
      case F.rejectHint: fields.rejectHint = r.uvarint(); break;
      default: r.skip(wire);
    }
  }
  return message({ ...fields, type: type as MessageType, entries });
}

export function decodeMessages(buf: Buffer): Message[] {
  const r = new ProtoReader(buf, 'raft message batch');
  const out: Message[] = [];
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.bytes) out.push(decodeMessage(r.bytes()));
    else r.skip(wire);
  }
  return out;
}
