import { CLASSIC_UDP_SIZE, OPCODE, TYPE } from '@kmslab/dns-wire';
import type { Zone } from './zone/zone.js';
import type { ZoneSet } from './zone/zone-set.js';

/** Entries kept at most; past it the cache starts over (a lab zone has few names). */
const MAX_ENTRIES = 10_000;
const MAX_UDP_ANSWER = 4096;

interface Entry {
  bytes: Buffer;
  zone: Zone | undefined;
  version: number;
  generation: number;
}

export interface FastQuery {
  key: string;
  /** Bytes 12 up to the end of the question, copied into the answer to echo the name as asked. */
  questionEnd: number;
  /** The question's name as its wire labels (latin1, lower case; `dottedName` makes `lab.test` of it) and its type, for faults and the query log. */
  wireName: string;
  type: number;
  /** The client's EDNS UDP size and DO bit, or null without EDNS. */
  ednsSize: number | null;
  dnssecOk: boolean;
}

/** `\x03lab\x04test\x00` (the wire labels as one latin1 string, already lower case) → `lab.test`. */
export function dottedName(wire: string): string {
  let name = '';
  for (let o = 0, len = wire.charCodeAt(0); len > 0; o += 1 + len, len = wire.charCodeAt(o)) {
    name += (o === 0 ? '' : '.') + wire.slice(o + 1, o + 1 + len);
  }
  return name;
}

/**
 * Pre-encoded answers, the server's fast path: a plain query (one question,
 * no records but an optional OPT, no TSIG) is recognised from its bytes, and
 * its answer is a copy of one encoded before with the request's id, RD bit and
 * question spelling. An entry is stale once its zone changes (version) or the
 * zone set does (generation); measured by pnpm bench:dns.
 */
export class AnswerCache {
  readonly #entries = new Map<string, Entry>();

  /** The cache key of a plain query, or null when it needs the full path. */
  static classify(raw: Buffer, transport: 'udp' | 'tcp'): FastQuery | null {
    if (raw.length < 17) return null;
    const flags = raw.readUInt16BE(2);
    if (flags & 0x8000 || ((flags >> 11) & 0xf) !== OPCODE.QUERY) return null;
    if (raw.readUInt16BE(4) !== 1 || raw.readUInt16BE(6) !== 0 || raw.readUInt16BE(8) !== 0) return null;
    const arcount = raw.readUInt16BE(10);
    if (arcount > 1) return null;
    let o = 12;
    for (;;) {
      const len = raw[o];
      if (len === undefined || len > 63) return null; // compression or a bad label: full path
      o += 1 + len;
      if (len === 0) break;
      if (o - 12 > 255) return null;
    }
    if (o + 4 > raw.length) return null;
    const qtype = raw.readUInt16BE(o);
    if (qtype === TYPE.AXFR || qtype === TYPE.IXFR || qtype === TYPE.OPT || qtype === TYPE.TSIG) return null;
    const questionEnd = o + 4;
    let size = transport === 'udp' ? CLASSIC_UDP_SIZE : 65_535;
    let edns = 'no-edns';
    let ednsSize: number | null = null;
    if (arcount === 1) {
      // Exactly one OPT at the root with no options, version 0: anything else takes the full path.
      const p = questionEnd;
      if (raw.length !== p + 11 || raw[p] !== 0 || raw.readUInt16BE(p + 1) !== TYPE.OPT || raw.readUInt16BE(p + 9) !== 0) return null;
      const ttl = raw.readUInt32BE(p + 5);
      if (((ttl >>> 16) & 0xff) !== 0 || ttl >>> 24 !== 0) return null;
      ednsSize = raw.readUInt16BE(p + 3);
      if (transport === 'udp') size = Math.min(Math.max(raw.readUInt16BE(p + 3), CLASSIC_UDP_SIZE), MAX_UDP_ANSWER);
      edns = ttl & 0x8000 ? 'edns-do' : 'edns';
    } else if (raw.length !== questionEnd) return null;
    const wireName = raw.toString('latin1', 12, questionEnd - 4).toLowerCase();
    return {
      key: `${wireName}|${raw.readUInt32BE(questionEnd - 4)}|${edns}|${size}`,
      questionEnd,
      wireName,
      type: qtype,
      ednsSize,
      dnssecOk: edns === 'edns-do',
    };
  }

  get(q: FastQuery, raw: Buffer, zones: ZoneSet): Buffer | null {
    const e = this.#entries.get(q.key);
    if (!e || e.generation !== zones.generation || (e.zone && e.zone.version !== e.version)) return null;
    const out = Buffer.from(e.bytes);
    out[0] = raw[0]!; // id
    out[1] = raw[1]!;
    out[2] = (out[2]! & ~0x01) | (raw[2]! & 0x01); // RD
    raw.copy(out, 12, 12, q.questionEnd); // the question as asked (0x20 case randomisation)
    return out;
  }

  set(q: FastQuery, bytes: Buffer, zone: Zone | undefined, zones: ZoneSet): void {
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(q.key, { bytes, zone, version: zone?.version ?? 0, generation: zones.generation });
  }
}
