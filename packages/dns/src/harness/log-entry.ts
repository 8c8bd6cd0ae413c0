import { rcodeName, typeName } from '@kmslab/dns-wire';
import type { Client, Handled } from '../handle-message.js';
import { actionText } from './fault-rule.js';
import type { QueryLogEntry } from './query-log.js';

/** The query log's record of one request and what it got (the answer's header is read from its bytes). */
export function logEntry(raw: Buffer, out: Handled, transport: 'udp' | 'tcp', client: Client, at: number, latencyMs: number): QueryLogEntry {
  const answer = Array.isArray(out.bytes) ? out.bytes[0] : out.bytes;
  const fault = out.fault ? { id: out.fault.id, action: actionText(out.fault.action) } : null;
  return {
    at,
    client: { address: client.address, port: client.port },
    transport,
    id: raw.length >= 2 ? raw.readUInt16BE(0) : 0,
    kind: out.kind,
    qname: out.qname ?? null,
    qtype: out.qtype === undefined ? null : typeName(out.qtype),
    flags: { rd: raw.length >= 3 && (raw[2]! & 0x01) === 1, ednsSize: out.ednsSize ?? null, do: out.dnssecOk ?? false },
    rcode: out.rcode === null ? null : rcodeName(out.rcode),
    answers: answer && answer.length >= 8 ? answer.readUInt16BE(6) : 0,
    tc: Boolean(answer && answer.length >= 3 && answer[2]! & 0x02),
    latencyMs: Math.round(latencyMs * 1000) / 1000,
    fault,
    key: out.key ?? null,
  };
}
