import { rcodeName, typeName } from '@kmslab/dns-wire';
import type { Client, Handled } from '../path/exchange.js';
import { actionText, type FaultAction } from './fault-rule.js';
import type { QueryLogEntry } from '@kmslab/core';
import { dottedName } from '../wire-name.js';

/**
 * One request, flat, with numbers where the entry shows names: what the
 * ring stores (in columns) and gives back; `toEntry` makes the public form
 * when someone reads it.
 */
export interface LogRecord {
  at: number;
  address: string;
  port: number;
  tcp: boolean;
  id: number;
  kind: string;
  qname: string | undefined;
  /** The name in wire form when the fast path did not make a dotted one (`toEntry` does). */
  qnameWire: string | undefined;
  qtype: number | undefined;
  rd: boolean;
  ednsSize: number | null | undefined;
  dnssecOk: boolean | undefined;
  rcode: number | null;
  answers: number;
  tc: boolean;
  latencyMs: number;
  faultId: string | undefined;
  faultAction: FaultAction | undefined;
  key: string | undefined;
  /** Why an update was not applied (`not-owner`, `replay`, `fault`…). */
  reason: string | undefined;
}

/** A record to fill again and again: the hot path writes each query into it, and the ring copies it into columns. */
export function emptyRecord(): LogRecord {
  return {
    at: 0, address: '', port: 0, tcp: false, id: 0, kind: '', qname: undefined, qnameWire: undefined, qtype: undefined, rd: false, ednsSize: null, dnssecOk: false,
    rcode: null, answers: 0, tc: false, latencyMs: 0, faultId: undefined, faultAction: undefined, key: undefined, reason: undefined,
  };
}

/** Writes one request and what it got into `r` (the answer's header is read from its bytes). */
export function fillRecord(r: LogRecord, raw: Buffer, out: Handled, transport: 'udp' | 'tcp', client: Client, at: number, latencyMs: number): LogRecord {
  const answer = Array.isArray(out.bytes) ? out.bytes[0] : out.bytes;
  r.at = at;
  r.address = client.address;
  r.port = client.port;
  r.tcp = transport === 'tcp';
  r.id = raw.length >= 2 ? raw.readUInt16BE(0) : 0;
  r.kind = out.kind;
  r.qname = out.qname;
  r.qnameWire = out.qnameWire;
  r.qtype = out.qtype;
  r.rd = raw.length >= 3 && (raw[2]! & 0x01) === 1;
  r.ednsSize = out.ednsSize;
  r.dnssecOk = out.dnssecOk;
  r.rcode = out.rcode;
  r.answers = answer && answer.length >= 8 ? answer.readUInt16BE(6) : 0;
  r.tc = Boolean(answer && answer.length >= 3 && answer[2]! & 0x02);
  r.latencyMs = latencyMs;
  r.faultId = out.fault?.id;
  r.faultAction = out.fault?.action;
  r.key = out.key;
  r.reason = out.kind === 'update' ? out.reason : undefined;
  return r;
}

/** The public form of a record (the query log API, the stream, the file); `seq` is its place in the log. */
export function toEntry(r: LogRecord, seq: number): QueryLogEntry {
  return {
    seq,
    at: r.at,
    client: { address: r.address, port: r.port },
    transport: r.tcp ? 'tcp' : 'udp',
    id: r.id,
    kind: r.kind,
    qname: r.qname ?? (r.qnameWire === undefined ? null : dottedName(r.qnameWire)),
    qtype: r.qtype === undefined ? null : typeName(r.qtype),
    flags: { rd: r.rd, ednsSize: r.ednsSize ?? null, do: r.dnssecOk ?? false },
    rcode: r.rcode === null ? null : rcodeName(r.rcode),
    answers: r.answers,
    tc: r.tc,
    latencyMs: Math.round(r.latencyMs * 1000) / 1000,
    fault: r.faultId !== undefined && r.faultAction ? { id: r.faultId, action: actionText(r.faultAction) } : null,
    key: r.key ?? null,
    ...(r.kind === 'update' && { reason: r.reason ?? null }),
  };
}
