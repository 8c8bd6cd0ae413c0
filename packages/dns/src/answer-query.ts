import { CLASS, OPCODE, RCODE, TYPE, emptyMessage, type Message } from '@kmslab/dns-wire';
import type { ZoneSet } from './zone/zone-set.js';

/** The response skeleton every answer starts from: same id, question and RD; QR set; EDNS echoed (RFC 6891 §7). */
export function responseTo(req: Message, rcode: number): Message {
  const res = emptyMessage(req.id);
  res.qr = true;
  res.opcode = req.opcode;
  res.rd = req.rd;
  res.rcode = rcode;
  res.questions = req.questions.slice(0, 1);
  if (req.edns) res.edns = { udpSize: req.edns.udpSize, version: 0, dnssecOk: false, extendedRcode: 0 };
  return res;
}

/**
 * Answers a standard query authoritatively (RFC 1034 §4.3.2): AA set; names
 * outside every zone REFUSED; NXDOMAIN and NODATA carry the zone's SOA; an
 * SRV answer carries its targets' addresses in the additional section.
 */
export function answerQuery(req: Message, zones: ZoneSet): Message {
  if (req.opcode !== OPCODE.QUERY) return responseTo(req, RCODE.NOTIMP);
  if (req.questions.length !== 1) return responseTo(req, RCODE.FORMERR);
  if (req.edns && req.edns.version > 0) {
    // RFC 6891 §6.1.3: BADVERS is extended rcode 16 = 1 << 4.
    const res = responseTo(req, 0);
    res.edns!.extendedRcode = 1;
    return res;
  }
  const q = req.questions[0]!;
  const zone = q.class === CLASS.IN || q.class === CLASS.ANY ? zones.find(q.name) : undefined;
  // A zone this server should serve but cannot (a secondary not loaded or expired) is SERVFAIL, not REFUSED.
  if (!zone) return responseTo(req, zones.unavailableFor(q.name) ? RCODE.SERVFAIL : RCODE.REFUSED);
  if (q.type === TYPE.AXFR || q.type === TYPE.IXFR || q.type === TYPE.OPT || q.type === TYPE.TSIG) return responseTo(req, RCODE.FORMERR);

  const res = responseTo(req, RCODE.NOERROR);
  res.aa = true;
  const found = zone.lookup(q.name, q.type);
  switch (found.kind) {
    case 'answer':
      res.answers = found.answers;
      res.additionals = found.additionals;
      break;
    case 'nodata':
      res.authorities = [found.soa];
      break;
    case 'nxdomain':
      res.rcode = RCODE.NXDOMAIN;
      res.answers = found.answers;
      res.authorities = [found.soa];
      break;
  }
  return res;
}
