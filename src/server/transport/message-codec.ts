import { ProtoReader, ProtoWriter, WireType } from '../../api/protowire.js';
import { message, type ConfState, type Entry, type EntryType, type Message, type MessageType, type Snapshot } from '../../raft/index.js';

/**
 * Raft messages between members, in raftpb's field numbers so a capture reads like etcd's:
 * a batch is `repeated Message = 1`. A MsgSnap's snapshot (field 9) carries only its metadata:
 * the backend it stands for is streamed beside it.
 */
const F = { type: 1, to: 2, from: 3, term: 4, logTerm: 5, index: 6, entries: 7, commit: 8, snapshot: 9, reject: 10, rejectHint: 11, context: 12 } as const;
const CONF_STATE_IDS = ['voters', 'learners', 'votersOutgoing', 'learnersNext'] as const;

function encodeEntry(e: Entry): Buffer {
  return new ProtoWriter().optionalNumber(1, e.type).optionalNumber(2, e.term).optionalNumber(3, e.index).optionalBytes(4, e.data).finish();
}

function encodeSnapshot(snap: Snapshot): Buffer {
  const cs = new ProtoWriter();
  CONF_STATE_IDS.forEach((name, i) => {
    for (const id of snap.metadata.confState[name]) cs.tag(i + 1, WireType.varint).int64(id);
  });
  cs.optionalBool(5, snap.metadata.confState.autoLeave);
  const metadata = new ProtoWriter().bytes(1, cs.finish()).optionalNumber(2, snap.metadata.index).optionalNumber(3, snap.metadata.term).finish();
  return new ProtoWriter().optionalBytes(1, snap.data).bytes(2, metadata).finish();
}

function decodeSnapshot(buf: Buffer): Snapshot {
  const ids: Record<(typeof CONF_STATE_IDS)[number], bigint[]> = { voters: [], learners: [], votersOutgoing: [], learnersNext: [] };
  let autoLeave = false;
  let index = 0;
  let term = 0;
  let data: Uint8Array = new Uint8Array(0);
  const r = new ProtoReader(buf, 'raft snapshot');
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.bytes) data = new Uint8Array(r.bytes());
    else if (field === 2 && wire === WireType.bytes) {
      const meta = new ProtoReader(r.bytes(), 'raft snapshot metadata');
      while (!meta.done) {
        const [mf, mw] = meta.tag();
        if (mf === 1 && mw === WireType.bytes) {
          const cs = new ProtoReader(meta.bytes(), 'raft conf state');
          while (!cs.done) {
            const [cf, cw] = cs.tag();
            const name = CONF_STATE_IDS[cf - 1];
            if (name !== undefined && cw === WireType.varint) ids[name].push(BigInt.asUintN(64, cs.int64()));
            else if (cf === 5 && cw === WireType.varint) autoLeave = cs.uvarint() !== 0;
            else cs.skip(cw);
          }
        } else if (mf === 2 && mw === WireType.varint) index = meta.uvarint();
        else if (mf === 3 && mw === WireType.varint) term = meta.uvarint();
        else meta.skip(mw);
      }
    } else r.skip(wire);
  }
  const confState: ConfState = { ...ids, autoLeave };
  return { metadata: { index, term, confState }, data };
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
  w.optionalNumber(F.commit, m.commit);
  if (m.snapshot) w.bytes(F.snapshot, encodeSnapshot(m.snapshot));
  return w.optionalBool(F.reject, m.reject).optionalNumber(F.rejectHint, m.rejectHint).optionalBytes(F.context, m.context).finish();
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
  // Plain locals and one object literal: a leader decodes a response per append per follower.
  let type = 0;
  let to = 0n;
  let from = 0n;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let snapshot: Snapshot | undefined;
  let reject = false;
  let rejectHint = 0;
  let context: Uint8Array | undefined;
  while (!r.done) {
    const [field, wire] = r.tag();
    if (wire === WireType.bytes) {
      const bytes = r.bytes();
      if (field === F.entries) entries.push(decodeEntry(bytes));
      else if (field === F.context) context = new Uint8Array(bytes);
      else if (field === F.snapshot) snapshot = decodeSnapshot(bytes);
      continue;
    }
    if (wire !== WireType.varint) {
      r.skip(wire);
      continue;
    }
    switch (field) {
      case F.type: type = r.uvarint(); break;
      case F.to: to = BigInt.asUintN(64, r.int64()); break;
      case F.from: from = BigInt.asUintN(64, r.int64()); break;
      case F.term: term = r.uvarint(); break;
      case F.logTerm: logTerm = r.uvarint(); break;
      case F.index: index = r.uvarint(); break;
      case F.commit: commit = r.uvarint(); break;
      case F.reject: reject = r.uvarint() !== 0; break;
      case F.rejectHint: rejectHint = r.uvarint(); break;
      default: r.skip(wire);
    }
  }
  const m = message({ type: type as MessageType, to, from, term, logTerm, index, entries, commit, reject, rejectHint });
  if (context === undefined && snapshot === undefined) return m;
  return { ...m, ...(context === undefined ? {} : { context }), ...(snapshot === undefined ? {} : { snapshot }) };
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
