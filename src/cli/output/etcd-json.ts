import { createRequire } from 'node:module';
import { join } from 'node:path';
import type protobufjs from 'protobufjs';
import { protoDir } from '../../api/proto-dir.js';

/**
 * JSON exactly as etcdctl writes it: Go's encoding/json over etcd's generated structs, so
 * fields in declaration order under their proto names, zero values left out (omitempty),
 * 64-bit integers as bare numbers (exact: copied from the decimal strings), bytes in base64,
 * enums as numbers.
 */

let loadedLibrary: typeof protobufjs | undefined;
let root: protobufjs.Root | undefined;

/** protobufjs, loaded at the first JSON output rather than with every command. */
function protobuf(): typeof protobufjs {
  loadedLibrary ??= createRequire(import.meta.url)('protobufjs') as typeof protobufjs;
  return loadedLibrary;
}

function messageType(name: string): protobufjs.Type {
  if (!root) {
    const dir = protoDir();
    const loaded = new (protobuf().Root)();
    loaded.resolvePath = (_origin, target) => join(dir, target);
    loaded.loadSync('rpc.proto', { keepCase: true }).resolveAll();
    root = loaded;
  }
  return root.lookupType(name);
}

const int64Types = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const numberTypes = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'double', 'float']);

/** A JSON text already encoded, placed verbatim by goJson(). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Go's json string escaping (HTML-safe: <, >, & and U+2028/2029 as \u escapes). */
export function goJsonString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Encodes a decoded etcd message (e.g. 'etcdserverpb.RangeResponse') as etcdctl's JSON. */
export function etcdJson(typeName: string, message: unknown): RawJson {
  return new RawJson(encodeMessage(messageType(typeName), message as Record<string, unknown>));
}

function encodeMessage(type: protobufjs.Type, message: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    if (field.repeated) {
      const items = value as unknown[];
      if (items.length === 0) continue;
      parts.push(`${goJsonString(field.name)}:[${items.map((item) => encodeValue(field, item)).join(',')}]`);
      continue;
    }
    const encoded = encodeValue(field, value);
    if (encoded === undefined) continue;
    parts.push(`${goJsonString(field.name)}:${encoded}`);
  }
  return `{${parts.join(',')}}`;
}

/** One value; undefined when it is Go's zero value (left out by omitempty, outside lists). */
function encodeValue(field: protobufjs.Field, value: unknown): string | undefined {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf().Type) return encodeMessage(resolved, value as Record<string, unknown>);
  if (resolved instanceof protobuf().Enum) {
    const number = typeof value === 'number' ? value : (resolved.values[String(value)] ?? 0);
    return number === 0 && !field.repeated ? undefined : String(number);
  }
  if (int64Types.has(field.type)) return String(value) === '0' && !field.repeated ? undefined : String(value);
  if (numberTypes.has(field.type)) return Number(value) === 0 && !field.repeated ? undefined : String(value);
  if (field.type === 'bool') return value === true ? 'true' : field.repeated ? 'false' : undefined;
  if (field.type === 'bytes') {
    const bytes = value as Buffer;
    return bytes.length === 0 && !field.repeated ? undefined : goJsonString(bytes.toString('base64'));
  }
  const text = String(value);
  return text === '' && !field.repeated ? undefined : goJsonString(text);
}

/**
 * Go's json.Marshal of plain values and structs built by etcdctl itself (field order as
 * given): strings, numbers, booleans, arrays, objects, RawJson pieces; undefined is left out.
 */
export function goJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value === null) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${goJsonString(k)}:${goJson(v)}`).join(',')}}`;
}
