import { emptyMessage, encodeMessage, signResponse, type Message } from '@kmslab/dns-wire';
import { responseTo } from '../answer-query.js';
import type { Exchange, Handled } from './exchange.js';

/**
 * A response in bytes: signed with the request's key when the request was
 * signed (RFC 8945 §5.3), else encoded within the client's UDP size
 * (truncated past it, RFC 1035 §4.2.1).
 */
export function reply(ex: Exchange, res: Message): Buffer {
  const s = ex.signed;
  if (!s) return encodeMessage(res, { maxSize: ex.maxSize });
  return signResponse(res, { key: s.key, keyName: s.key.name, algorithm: s.key.algorithm, requestMac: s.requestMac, nowMs: ex.ctx.now() }).bytes;
}

/** A decoded request answered with an rcode alone (the update outcomes, refusals), and why, for the log. */
export function answerWith(ex: Exchange, rcode: number, kind: Handled['kind'], reason?: string): Handled {
  return { bytes: reply(ex, responseTo(ex.req!, rcode)), rcode, kind, ...ex.asked, reason };
}

/** An answer built from the header alone (the rest could not be read or answered); responses and runts get none. */
export function headerOnlyAnswer(raw: Buffer, rcode: number): Handled {
  if (raw.length < 12 || raw[2]! & 0x80) return { bytes: null, rcode: null, kind: 'dropped' };
  const res = emptyMessage(raw.readUInt16BE(0));
  res.qr = true;
  res.opcode = (raw[2]! >> 3) & 0xf;
  res.rcode = rcode;
  return { bytes: encodeMessage(res), rcode, kind: 'malformed' };
}
