import type {
  DeleteRangeResponse,
  KeyValue,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  WatchResponse,
} from '../../api/etcd-types.js';
import type { OutputSettings } from '../flags/output-flags.js';
import { etcdJson, goJson } from './etcd-json.js';
import { goQuote, hexBytes } from './go-format.js';

/** How etcdctl prints key-value results: each function returns the text for stdout. */
export interface KvPrintOptions extends OutputSettings {
  /** --print-value-only: values without keys (simple format). */
  readonly valueOnly?: boolean;
}

const nl = Buffer.from('\n');
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Keys and values go out as the raw bytes etcd holds (Go prints string(bytes)). */
function simpleKv(kv: KeyValue, options: KvPrintOptions): Buffer {
  const key = options.hex ? text(hexBytes(kv.key)) : kv.key;
  const value = options.hex ? text(hexBytes(kv.value)) : kv.value;
  return Buffer.concat(options.valueOnly ? [value, nl] : [key, nl, value, nl]);
}

export function fieldsHeader(header: ResponseHeader | null): string {
  const h = header ?? { cluster_id: '0', member_id: '0', revision: '0', raft_term: '0' };
  return `"ClusterID" : ${h.cluster_id}\n"MemberID" : ${h.member_id}\n"Revision" : ${h.revision}\n"RaftTerm" : ${h.raft_term}\n`;
}

function fieldsKv(prefix: string, kv: KeyValue): string {
  return (
    `"${prefix}Key" : ${goQuote(kv.key)}\n"${prefix}CreateRevision" : ${kv.create_revision}\n` +
    `"${prefix}ModRevision" : ${kv.mod_revision}\n"${prefix}Version" : ${kv.version}\n` +
    `"${prefix}Value" : ${goQuote(kv.value)}\n"${prefix}Lease" : ${kv.lease}\n`
  );
}

const json = (type: string, message: unknown): Buffer => text(`${etcdJson(`etcdserverpb.${type}`, message).text}\n`);

export function printGet(resp: RangeResponse, options: KvPrintOptions & { countOnly?: boolean }): Buffer {
  switch (options.format) {
    case 'json':
      return json('RangeResponse', resp);
    case 'fields':
      return text(`${fieldsHeader(resp.header)}${resp.kvs.map((kv) => fieldsKv('', kv)).join('')}"More" : ${resp.more}\n"Count" : ${resp.count}\n`);
    default:
      return options.countOnly ? text(`${resp.count}\n`) : Buffer.concat(resp.kvs.map((kv) => simpleKv(kv, options)));
  }
}

export function printPut(resp: PutResponse, options: KvPrintOptions): Buffer {
  switch (options.format) {
    case 'json':
      return json('PutResponse', resp);
    case 'fields':
      return text(fieldsHeader(resp.header) + (resp.prev_kv ? fieldsKv('Prev', resp.prev_kv) : ''));
    default:
      return Buffer.concat([text('OK\n'), ...(resp.prev_kv ? [simpleKv(resp.prev_kv, options)] : [])]);
  }
}

export function printDelete(resp: DeleteRangeResponse, options: KvPrintOptions): Buffer {
  switch (options.format) {
    case 'json':
      return json('DeleteRangeResponse', resp);
    case 'fields':
      return text(`${fieldsHeader(resp.header)}"Deleted" : ${resp.deleted}\n${resp.prev_kvs.map((kv) => fieldsKv('Prev', kv)).join('')}`);
    default:
      return Buffer.concat([text(`${resp.deleted}\n`), ...resp.prev_kvs.map((kv) => simpleKv(kv, options))]);
  }
}

/** One watch response; etcdctl's JSON is clientv3.WatchResponse, a Go struct without tags. */
export function printWatch(resp: WatchResponse, options: KvPrintOptions): Buffer {
  switch (options.format) {
    case 'json':
      return text(`${goJson({
        Header: etcdJson('etcdserverpb.ResponseHeader', resp.header ?? {}),
        Events: resp.events.length === 0 ? null : resp.events.map((e) => etcdJson('mvccpb.Event', e)),
        CompactRevision: Number(resp.compact_revision),
        Canceled: resp.canceled,
        Created: resp.created,
      })}\n`);
    case 'fields':
      return text(
        fieldsHeader(resp.header) +
          resp.events
            .map((e) => `"Type" : ${e.type}\n${e.prev_kv ? fieldsKv('Prev', e.prev_kv) : ''}${e.kv ? fieldsKv('', e.kv) : ''}`)
            .join(''),
      );
    default:
      return Buffer.concat(
        resp.events.flatMap((e) => [
          text(`${e.type}\n`),
          ...(e.prev_kv ? [simpleKv(e.prev_kv, options)] : []),
          ...(e.kv ? [simpleKv(e.kv, options)] : []),
        ]),
      );
  }
}
