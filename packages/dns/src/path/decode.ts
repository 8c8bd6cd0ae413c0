import { CLASSIC_UDP_SIZE, RCODE, decodeMessage, type Message } from '@kmslab/dns-wire';
import { MAX_UDP_ANSWER } from '../answer-cache.js';
import type { Exchange, Handled } from './exchange.js';
import { headerOnlyAnswer } from './reply.js';

/**
 * Step 2: the message decoded. Unreadable: FORMERR when its header is
 * readable and it is a request, silence otherwise; a response is never
 * answered (answering garbage or responses invites loops).
 */
export function decodeRequest(ex: Exchange): Handled | undefined {
  let req: Message;
  try {
    req = decodeMessage(ex.raw);
  } catch {
    return headerOnlyAnswer(ex.raw, RCODE.FORMERR);
  }
  if (req.qr) return { bytes: null, rcode: null, kind: 'dropped' };
  const q0 = req.questions[0];
  ex.req = req;
  ex.asked = { qname: q0?.name, qtype: q0?.type, ednsSize: req.edns?.udpSize ?? null, dnssecOk: req.edns?.dnssecOk ?? false, key: req.tsig?.name };
  // RFC 6891 §6.2.5: a client without EDNS takes 512 bytes over UDP.
  ex.maxSize = ex.transport === 'udp' ? Math.min(req.edns?.udpSize ?? CLASSIC_UDP_SIZE, MAX_UDP_ANSWER) : undefined;
  return undefined;
}
