import { answerQuery, responseTo } from './answer-query.js';
import { CLASSIC_UDP_SIZE, OPCODE, RCODE, TYPE } from './wire/constants.js';
import { decodeMessage } from './wire/decode.js';
import { encodeMessage } from './wire/encode.js';
import { emptyMessage, type Message } from './wire/message.js';
import type { ZoneSet } from './zone/zone-set.js';
import { zoneTransfer } from './zone-transfer.js';

/** Largest UDP answer sent even when a client offers more (fragmentation risk grows past it). */
const MAX_UDP_ANSWER = 4096;

export type Transport = 'udp' | 'tcp';

export interface Handled {
  /** The answer (several messages for a zone transfer), or null to stay silent (responses, unreadable headers). */
  bytes: Buffer | Buffer[] | null;
  rcode: number | null;
  /** What the request was, for counters: query, update, malformed, dropped. */
  kind: 'query' | 'update' | 'malformed' | 'dropped' | 'notimp' | 'transfer';
}

/**
 * One DNS message in, at most one out. Never throws: a message that cannot
 * be read gets FORMERR when its header is readable and is a query, and is
 * dropped otherwise (answering garbage or responses invites loops).
 */
export function handleMessage(raw: Buffer, transport: Transport, zones: ZoneSet): Handled {
  let req: Message;
  try {
    req = decodeMessage(raw);
  } catch {
    if (raw.length < 12 || raw[2]! & 0x80) return { bytes: null, rcode: null, kind: 'dropped' };
    const res = emptyMessage(raw.readUInt16BE(0));
    res.qr = true;
    res.opcode = (raw[2]! >> 3) & 0xf;
    res.rcode = RCODE.FORMERR;
    return { bytes: encodeMessage(res), rcode: RCODE.FORMERR, kind: 'malformed' };
  }
  if (req.qr) return { bytes: null, rcode: null, kind: 'dropped' };
  const maxSize = transport === 'udp' ? Math.min(req.edns?.udpSize ?? CLASSIC_UDP_SIZE, MAX_UDP_ANSWER) : undefined;
  if (req.opcode !== OPCODE.QUERY) {
    const res = responseTo(req, RCODE.NOTIMP);
    return { bytes: encodeMessage(res, { maxSize }), rcode: RCODE.NOTIMP, kind: 'notimp' };
  }
  if (req.questions.length === 1 && req.questions[0]!.type === TYPE.AXFR) {
    // Zone transfers only over TCP (RFC 5936 §4.2).
    if (transport === 'udp') return { bytes: encodeMessage(responseTo(req, RCODE.FORMERR)), rcode: RCODE.FORMERR, kind: 'query' };
    return { bytes: zoneTransfer(req, zones), rcode: RCODE.NOERROR, kind: 'transfer' };
  }
  const res = answerQuery(req, zones);
  return { bytes: encodeMessage(res, { maxSize }), rcode: res.rcode, kind: 'query' };
}
