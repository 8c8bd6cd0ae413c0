import { RCODE, TYPE, canonicalName, type Message, type ResourceRecord } from '@kmslab/dns-wire';
import { responseTo } from './answer-query.js';
import { serialGreater } from './zone/serial.js';
import { diffsSince } from './zone/zone-history.js';
import type { Zone } from './zone/zone.js';
import type { ZoneSet } from './zone/zone-set.js';

/** Records per transfer message; keeps each well under the 64 KiB TCP message limit. */
const RECORDS_PER_MESSAGE = 500;

/** What a transfer sent: AXFR (the whole zone), IXFR (the changes), or the SOA alone (the secondary is current). */
export interface Transfer {
  messages: Message[];
  style: 'AXFR' | 'IXFR' | 'current' | 'refused';
  /** The secondary's serial (IXFR), the serial sent, and how many records went. */
  from: number | null;
  to: number | null;
  records: number;
}

/** The zone a transfer asks for, at its apex, or the refusal to send (not ours: REFUSED; below a zone's apex: NOTAUTH). */
function apexOf(req: Message, zones: ZoneSet): Zone | Message {
  const q = req.questions[0]!;
  const zone = zones.get(q.name);
  if (!zone || zone.origin !== canonicalName(q.name)) return responseTo(req, zone ? RCODE.NOTAUTH : RCODE.REFUSED);
  return zone;
}

/** Records over as many messages as they need, the question only in the first (RFC 5936 §2.2). */
function messages(req: Message, records: ResourceRecord[]): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < records.length; i += RECORDS_PER_MESSAGE) {
    const res = responseTo(req, RCODE.NOERROR);
    res.aa = true;
    if (i > 0) res.questions = [];
    res.answers = records.slice(i, i + RECORDS_PER_MESSAGE);
    out.push(res);
  }
  return out;
}

/** AXFR (RFC 5936): the zone's SOA, every record, the SOA again. */
export function zoneTransfer(req: Message, zones: ZoneSet): Transfer {
  const zone = apexOf(req, zones);
  if (!('origin' in zone)) return { messages: [zone], style: 'refused', from: null, to: null, records: 0 };
  const records = [...zone.records(), zone.soa];
  return { messages: messages(req, records), style: 'AXFR', from: null, to: zone.serial, records: records.length };
}

/**
 * IXFR (RFC 1995): for a secondary at serial N (the SOA in the request's
 * authority section), the changes since N from the zone's history — the
 * current SOA, then per change the old SOA, what went, the new SOA, what came,
 * and the current SOA again (§4); the SOA alone when it is current; the whole
 * zone (AXFR in the IXFR answer) when the history does not reach back;
 * `soaOnly` (a request over UDP) sends the SOA alone, so the secondary asks
 * again over TCP. A request without that SOA is FORMERR.
 */
export function incrementalTransfer(req: Message, zones: ZoneSet, o: { soaOnly?: boolean } = {}): Transfer {
  const zone = apexOf(req, zones);
  if (!('origin' in zone)) return { messages: [zone], style: 'refused', from: null, to: null, records: 0 };
  const theirs = req.authorities.find((rr) => rr.type === TYPE.SOA && canonicalName(rr.name) === zone.origin && rr.data?.type === 'SOA');
  if (!theirs) return { messages: [responseTo(req, RCODE.FORMERR)], style: 'refused', from: null, to: null, records: 0 };
  const serial = (theirs.data as { serial: number }).serial;
  const soa = zone.soa;
  // Current, or asked over UDP (RFC 1995 §2: the SOA alone when the answer does not fit; kmslab never sends changes over UDP).
  if (serial === zone.serial || serialGreater(serial, zone.serial) || o.soaOnly) return { messages: messages(req, [soa]), style: 'current', from: serial, to: zone.serial, records: 1 };
  const chain = diffsSince(zone.history(), serial, zone.serial);
  if (!chain) return { ...zoneTransfer(req, zones), from: serial };
  const soaAt = (s: number): ResourceRecord => ({ ...soa, data: { ...(soa.data as Extract<ResourceRecord['data'], { type: 'SOA' }>), serial: s } });
  const records = [soa, ...chain.flatMap((d) => [soaAt(d.from), ...d.deleted, soaAt(d.to), ...d.added]), soa];
  return { messages: messages(req, records), style: 'IXFR', from: serial, to: zone.serial, records: records.length };
}
