import { RCODE, canonicalName, type Message, type ResourceRecord } from '@kmslab/dns-wire';
import { responseTo } from './answer-query.js';
import type { ZoneSet } from './zone/zone-set.js';

/** Records per AXFR message; keeps each well under the 64 KiB TCP message limit. */
const RECORDS_PER_MESSAGE = 500;

/**
 * AXFR (RFC 5936): the zone's SOA, every record, the SOA again, over one or
 * more messages on TCP. Only for the apex of a zone this server holds.
 */
export function zoneTransfer(req: Message, zones: ZoneSet): Message[] {
  const q = req.questions[0]!;
  const zone = zones.get(q.name);
  if (!zone || zone.origin !== canonicalName(q.name)) return [responseTo(req, zone ? RCODE.NOTAUTH : RCODE.REFUSED)];
  const records: ResourceRecord[] = [...zone.records(), zone.soa];
  const out: Message[] = [];
  for (let i = 0; i < records.length; i += RECORDS_PER_MESSAGE) {
    const res = responseTo(req, RCODE.NOERROR);
    res.aa = true;
    if (i > 0) res.questions = []; // RFC 5936 §2.2: the question only in the first message
    res.answers = records.slice(i, i + RECORDS_PER_MESSAGE);
    out.push(res);
  }
  return out;
}
