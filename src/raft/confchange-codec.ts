/**
 * Conf changes travel inside log entries as bytes. The encoding is protobuf, field for
 * field etcd's raftpb.ConfChange and raftpb.ConfChangeV2, so entries written by etcd (or
 * by `etcdctl snapshot restore`) decode here and ours decode there. src/raft may not use
 * src/api's ProtoWriter, hence this small private codec.
 */
import { RaftError } from './errors.js';
import {
  ConfChangeType,
  emptyBytes,
  EntryType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeTransition,
  type ConfChangeV1,
  type ConfChangeV2,
  type Entry,
} from './types.js';

class Writer {
  private readonly bytes: number[] = [];

  varint(value: bigint | number): this {
    let v = BigInt(value);
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
    return this;
  }

  uint(field: number, value: bigint | number): this {
    return this.varint(field << 3).varint(value);
  }

  bytesField(field: number, value: Uint8Array): this {
    this.varint((field << 3) | 2).varint(value.length);
    for (const b of value) this.bytes.push(b);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

type Field = { num: number; varint: bigint } | { num: number; bytes: Uint8Array };

function* fields(data: Uint8Array, what: string): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= data.length || shift > 63n) throw bad(what, 'truncated varint');
      const b = data[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
  };
  while (pos < data.length) {
    const key = Number(varint());
    const num = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { num, varint: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > data.length) throw bad(what, 'truncated bytes field');
      yield { num, bytes: data.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw bad(what, `unsupported wire type ${wire}`);
  }
}

function bad(what: string, why: string): RaftError {
  return new RaftError('RAFT_INVALID_CONF_CHANGE', `Cannot decode ${what} entry data: ${why}`);
}

function confChangeType(v: bigint, what: string): ConfChangeType {
  const n = Number(v);
  if (n < 0 || n > 3) throw bad(what, `unknown conf change type ${n}`);
  return n as ConfChangeType;
}

export function encodeConfChangeV1(cc: ConfChangeV1): Uint8Array {
  return new Writer().uint(1, cc.id).uint(2, cc.type).uint(3, cc.nodeId).bytesField(4, cc.context).finish();
}

export function decodeConfChangeV1(data: Uint8Array): ConfChangeV1 {
  let id = 0n;
  let type: ConfChangeType = ConfChangeType.AddNode;
  let nodeId = 0n;
  let context = emptyBytes;
  for (const f of fields(data, 'ConfChange')) {
    if ('varint' in f) {
      if (f.num === 1) id = f.varint;
      else if (f.num === 2) type = confChangeType(f.varint, 'ConfChange');
      else if (f.num === 3) nodeId = f.varint;
    } else if (f.num === 4) context = f.bytes.slice();
  }
  return { kind: 'v1', id, type, nodeId, context };
}

export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  const w = new Writer();
  if (cc.transition !== 0) w.uint(1, cc.transition);
  for (const c of cc.changes) w.bytesField(2, new Writer().uint(1, c.type).uint(2, c.nodeId).finish());
  if (cc.context.length > 0) w.bytesField(3, cc.context);
  return w.finish();
}

export function decodeConfChangeV2(data: Uint8Array): ConfChangeV2 {
  let transition: ConfChangeTransition = 0;
  const changes: ConfChangeSingle[] = [];
  let context = emptyBytes;
  for (const f of fields(data, 'ConfChangeV2')) {
    if ('varint' in f) {
      if (f.num === 1) {
        const n = Number(f.varint);
        if (n > 2) throw bad('ConfChangeV2', `unknown transition ${n}`);
        transition = n as ConfChangeTransition;
      }
    } else if (f.num === 2) {
      let type: ConfChangeType = ConfChangeType.AddNode;
      let nodeId = 0n;
      for (const g of fields(f.bytes, 'ConfChangeSingle')) {
        if (!('varint' in g)) continue;
        if (g.num === 1) type = confChangeType(g.varint, 'ConfChangeSingle');
        else if (g.num === 2) nodeId = g.varint;
      }
      changes.push({ type, nodeId });
    } else if (f.num === 3) context = f.bytes.slice();
  }
  return { kind: 'v2', transition, changes, context };
}

/** The conf change an entry of type ConfChange or ConfChangeV2 carries; undefined for a normal entry. */
export function decodeConfChangeEntry(e: Entry): ConfChange | undefined {
  if (e.type === EntryType.ConfChange) return decodeConfChangeV1(e.data);
  if (e.type === EntryType.ConfChangeV2) return decodeConfChangeV2(e.data);
  return undefined;
}

export function encodeConfChange(cc: ConfChange): { type: EntryType; data: Uint8Array } {
  return cc.kind === 'v1'
    ? { type: EntryType.ConfChange, data: encodeConfChangeV1(cc) }
    : { type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) };
}

/** Every request as the general form; a V1 change is a V2 with one change and no joint state. */
export function asV2(cc: ConfChange): ConfChangeV2 {
  if (cc.kind === 'v2') return cc;
  return { kind: 'v2', transition: 0, changes: [{ type: cc.type, nodeId: cc.nodeId }], context: cc.context };
}

/** A V2 with no changes and the Auto transition (whatever its context) asks to leave a joint configuration. */
export function leavesJoint(cc: ConfChangeV2): boolean {
  return cc.changes.length === 0 && cc.transition === 0;
}

/** Whether the change enters a joint configuration, and if so whether it leaves it automatically. */
export function entersJoint(cc: ConfChangeV2): { joint: boolean; autoLeave: boolean } {
  const joint = cc.transition !== 0 || cc.changes.length > 1;
  return { joint, autoLeave: joint && cc.transition !== 2 };
}
