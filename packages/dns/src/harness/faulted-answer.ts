import { RCODE, type Message, type ResourceRecord } from '@kmslab/dns-wire';
import { answerQuery, responseTo } from '../answer-query.js';
import type { ZoneSet } from '../zone/zone-set.js';
import type { FaultAction } from './fault-rule.js';

/** What a query gets instead of its answer; `delayMs` before sending it. */
export interface Faulted {
  /** null: no answer at all (`drop`). */
  message: Message | null;
  delayMs: number;
}

const RCODE_OF = { servfail: RCODE.SERVFAIL, refused: RCODE.REFUSED, formerr: RCODE.FORMERR, notimp: RCODE.NOTIMP } as const;

/** The zone's SOA for a negative answer, as a real NXDOMAIN or NODATA carries it (RFC 2308). */
function negative(req: Message, zones: ZoneSet, rcode: number): Message {
  const res = responseTo(req, rcode);
  res.aa = true;
  const zone = zones.find(req.questions[0]?.name ?? '');
  if (zone) {
    const soa = zone.soa;
    const minimum = soa.data?.type === 'SOA' ? soa.data.minimum : soa.ttl;
    res.authorities = [{ ...soa, ttl: Math.min(soa.ttl, minimum) }];
  }
  return res;
}

const withTtl = (records: ResourceRecord[], ttl: number) => records.map((rr) => ({ ...rr, ttl }));

/**
 * A query's answer as a fault makes it (docs/dns-faults.md): an error rcode,
 * NXDOMAIN/NODATA with the zone's SOA, nothing (`drop`), TC with no answers
 * over UDP (`truncate`; over TCP the answer is whole), the answer with every
 * TTL set (`ttl`), or the answer after a wait (`delay`).
 */
export function faultedAnswer(action: FaultAction, req: Message, zones: ZoneSet, transport: 'udp' | 'tcp'): Faulted {
  switch (action.kind) {
    case 'drop':
      return { message: null, delayMs: 0 };
    case 'servfail':
    case 'refused':
    case 'formerr':
    case 'notimp':
      return { message: responseTo(req, RCODE_OF[action.kind]), delayMs: 0 };
    case 'nxdomain':
      return { message: negative(req, zones, RCODE.NXDOMAIN), delayMs: 0 };
    case 'nodata':
      return { message: negative(req, zones, RCODE.NOERROR), delayMs: 0 };
    case 'truncate': {
      if (transport === 'tcp') return { message: answerQuery(req, zones), delayMs: 0 };
      const res = responseTo(req, RCODE.NOERROR);
      res.aa = true;
      res.tc = true;
      return { message: res, delayMs: 0 };
    }
    case 'ttl': {
      const res = answerQuery(req, zones);
      res.answers = withTtl(res.answers, action.ttl);
      res.authorities = withTtl(res.authorities, action.ttl);
      res.additionals = withTtl(res.additionals, action.ttl);
      return { message: res, delayMs: 0 };
    }
    case 'delay':
      return { message: answerQuery(req, zones), delayMs: action.ms };
    case 'update-refused':
    case 'update-notauth':
      return { message: responseTo(req, action.kind === 'update-refused' ? RCODE.REFUSED : RCODE.NOTAUTH), delayMs: 0 };
    case 'transfer-refused':
      return { message: responseTo(req, RCODE.REFUSED), delayMs: 0 };
    case 'notify-drop':
    case 'transfer-delay':
      // Applied where transfers and NOTIFY are made (path/transfer.ts, notify.ts), never to a query.
      return { message: answerQuery(req, zones), delayMs: action.kind === 'transfer-delay' ? action.ms : 0 };
  }
}
