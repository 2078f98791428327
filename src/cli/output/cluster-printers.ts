import type { HashKVResponse, StatusResponse } from '../../api/etcd-types.js';
import type { MemberListResponse } from '../../client/types.js';
import type { OutputSettings } from '../flags/output-flags.js';
import { etcdJson, goJson } from './etcd-json.js';
import { goQuote, hexId, humanizeBytes } from './go-format.js';
import { fieldsHeader } from './kv-printers.js';
import { renderTable } from './table.js';

/** Text for stdout and (etcdctl prints health lines there) stderr. */
export interface Printed {
  readonly out: string;
  readonly err?: string;
}

export function printMemberList(resp: MemberListResponse, options: OutputSettings): Printed {
  const rows = resp.members.map((m) => [
    hexId(m.ID),
    m.name === '' ? 'unstarted' : 'started',
    m.name,
    m.peerURLs.join(','),
    m.clientURLs.join(','),
    String(m.isLearner),
  ]);
  switch (options.format) {
    case 'json':
      return { out: `${etcdJson('etcdserverpb.MemberListResponse', resp).text}\n` };
    case 'fields':
      return {
        out:
          fieldsHeader(resp.header) +
          resp.members
            .map(
              (m) =>
                `"ID" : ${m.ID}\n"Name" : ${goQuote(m.name)}\n` +
                m.peerURLs.map((u) => `"PeerURL" : ${goQuote(u)}\n`).join('') +
                m.clientURLs.map((u) => `"ClientURL" : ${goQuote(u)}\n`).join('') +
                `"IsLearner" : ${m.isLearner}\n\n`,
            )
            .join(''),
      };
    case 'table':
      return { out: renderTable(['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'], rows) };
    default:
      return { out: rows.map((row) => `${row.join(', ')}\n`).join('') };
  }
}

export interface EndpointStatus {
  readonly endpoint: string;
  readonly status: StatusResponse;
}

export function printEndpointStatus(list: readonly EndpointStatus[], options: OutputSettings): Printed {
  const rows = list.map(({ endpoint, status: s }) => [
    endpoint,
    hexId(s.header?.member_id ?? '0'),
    s.version,
    humanizeBytes(Number(s.dbSize)),
    String(s.leader === s.header?.member_id),
    String(s.isLearner),
    s.raftTerm,
    s.raftIndex,
    s.raftAppliedIndex,
    s.errors.join(', '),
  ]);
  switch (options.format) {
    case 'json':
      return {
        out: `${goJson(list.map(({ endpoint, status }) => ({ Endpoint: endpoint, Status: etcdJson('etcdserverpb.StatusResponse', status) })))}\n`,
      };
    case 'fields':
      return {
        out: list
          .map(
            ({ endpoint, status: s }) =>
              `${fieldsHeader(s.header)}"Version" : ${goQuote(s.version)}\n"DBSize" : ${s.dbSize}\n"Leader" : ${s.leader}\n` +
              `"IsLearner" : ${s.isLearner}\n"RaftIndex" : ${s.raftIndex}\n"RaftTerm" : ${s.raftTerm}\n` +
              `"RaftAppliedIndex" : ${s.raftAppliedIndex}\n"Errors" : [${s.errors.join(' ')}]\n"Endpoint" : ${goQuote(endpoint)}\n\n`,
          )
          .join(''),
      };
    case 'table':
      return {
        out: renderTable(
          ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'],
          rows,
        ),
      };
    default:
      return { out: rows.map((row) => `${row.join(', ')}\n`).join('') };
  }
}

export interface EndpointHealth {
  readonly endpoint: string;
  readonly health: boolean;
  /** Go duration text, e.g. "1.836776ms". */
  readonly took: string;
  readonly error: string;
}

export function printEndpointHealth(list: readonly EndpointHealth[], options: OutputSettings): Printed {
  switch (options.format) {
    case 'json':
      return {
        out: `${goJson(list.map((h) => ({ endpoint: h.endpoint, health: h.health, took: h.took, error: h.error === '' ? undefined : h.error })))}\n`,
      };
    case 'fields':
      return {
        out: list
          .map((h) => `"Endpoint" : ${goQuote(h.endpoint)}\n"Health" : ${h.health}\n"Took" : ${h.took}\n"Error" : ${h.error}\n\n`)
          .join(''),
      };
    case 'table':
      return { out: renderTable(['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'], list.map((h) => [h.endpoint, String(h.health), h.took, h.error])) };
    default:
      return {
        out: '',
        err: list
          .map((h) =>
            h.error === ''
              ? `${h.endpoint} is healthy: successfully committed proposal: took = ${h.took}\n`
              : `${h.endpoint} is unhealthy: failed to commit proposal: ${h.error}\n`,
          )
          .join(''),
      };
  }
}

export interface EndpointHashKV {
  readonly endpoint: string;
  readonly hashKV: HashKVResponse;
}

export function printEndpointHashKV(list: readonly EndpointHashKV[], options: OutputSettings): Printed {
  switch (options.format) {
    case 'json':
      return {
        out: `${goJson(list.map(({ endpoint, hashKV }) => ({ Endpoint: endpoint, HashKV: etcdJson('etcdserverpb.HashKVResponse', hashKV) })))}\n`,
      };
    case 'fields':
      return {
        out: list.map(({ endpoint, hashKV }) => `${fieldsHeader(hashKV.header)}"Endpoint" : ${goQuote(endpoint)}\n"Hash" : ${hashKV.hash}\n\n`).join(''),
      };
    case 'table':
      return { out: renderTable(['ENDPOINT', 'HASH'], list.map(({ endpoint, hashKV }) => [endpoint, String(hashKV.hash)])) };
    default:
      return { out: list.map(({ endpoint, hashKV }) => `${endpoint}, ${hashKV.hash}\n`).join('') };
  }
}
