import { CLASSIC_UDP_SIZE, OPCODE, TYPE } from '@kmslab/dns-wire';
import type { Zone } from './zone/zone.js';
import type { ZoneSet } from './zone/zone-set.js';

/** Entries kept at most; past it the cache starts over (a lab zone has few names). */
const MAX_ENTRIES = 10_000;
/** Largest UDP answer sent even when a client offers more (fragmentation risk grows past it); the full path (path/decode.ts) keeps to it too. */
export const MAX_UDP_ANSWER = 4096;

/** A pre-encoded answer and what it is valid for. */
export interface CachedAnswer {
  /** The question (bytes 12 up to the end of its class) in lower case, to tell two questions with one hash apart. */
  question: Buffer;
  shape: number;
  /** The name in wire form, made once: a hit makes no string (the fast path, the query log and faults share it). */
  wireName: string;
  bytes: Buffer;
  zone: Zone | undefined;
  version: number;
  generation: number;
}

/** A plain query recognised from its bytes (AnswerCache.classify). */
export interface FastQuery {
  /** The cache key: a hash of the question in lower case and the answer's shape, made while reading it (no string per query). */
  hash: number;
  /** What else the answer depends on: EDNS (none, on, with DO) and the size limit, as one number. */
  shape: number;
  /** Bytes 12 up to the end of the question, copied into the answer to echo the name as asked. */
  questionEnd: number;
  type: number;
  /** The client's EDNS UDP size and DO bit, or null without EDNS. */
  ednsSize: number | null;
  dnssecOk: boolean;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** ASCII upper case to lower case, for a byte of a name (DNS names compare case-insensitively, RFC 4343). */
const lower = (b: number) => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b);

/**
 * Pre-encoded answers, the server's fast path: a plain query (one question,
 * no records but an optional OPT, whatever its options, no TSIG) is recognised from its bytes, and
 * its answer is a copy of one encoded before with the request's id, RD bit and
 * question spelling. An entry is stale once its zone changes (version) or the
 * zone set does (generation); measured by pnpm bench:dns.
 */
export class AnswerCache {
  readonly #entries = new Map<number, CachedAnswer>();

  /** The cache key of a plain query, or null when it needs the full path. */
  static classify(raw: Buffer, transport: 'udp' | 'tcp'): FastQuery | null {
    if (raw.length < 17) return null;
    const flags = raw.readUInt16BE(2);
    if (flags & 0x8000 || ((flags >> 11) & 0xf) !== OPCODE.QUERY) return null;
    if (raw.readUInt16BE(4) !== 1 || raw.readUInt16BE(6) !== 0 || raw.readUInt16BE(8) !== 0) return null;
    const arcount = raw.readUInt16BE(10);
    if (arcount > 1) return null;
    let o = 12;
    let hash = FNV_OFFSET;
    for (;;) {
      const len = raw[o];
      if (len === undefined || len > 63 || o + 1 + len > raw.length) return null; // compression or a bad label: full path
      hash = Math.imul(hash ^ len, FNV_PRIME);
      for (let i = o + 1; i <= o + len; i++) hash = Math.imul(hash ^ lower(raw[i]!), FNV_PRIME);
      o += 1 + len;
      if (len === 0) break;
      if (o - 12 > 255) return null;
    }
    if (o + 4 > raw.length) return null;
    const qtype = raw.readUInt16BE(o);
    if (qtype === TYPE.AXFR || qtype === TYPE.IXFR || qtype === TYPE.OPT || qtype === TYPE.TSIG) return null;
    const questionEnd = o + 4;
    for (let i = o; i < questionEnd; i++) hash = Math.imul(hash ^ raw[i]!, FNV_PRIME);
    let size = transport === 'udp' ? CLASSIC_UDP_SIZE : 65_535;
    let edns = 0; // 0 none, 1 EDNS, 2 EDNS with DO
    let ednsSize: number | null = null;
    if (arcount === 1) {
      // Exactly one OPT at the root, version 0, its options well formed: anything else takes the full path.
      // Options are skipped: kmslab answers none (COOKIE from dig, EXPIRE from a BIND secondary's SOA query,
      // NSID), so the answer is the one the full path would give without them.
      const p = questionEnd;
      if (raw.length < p + 11 || raw[p] !== 0 || raw.readUInt16BE(p + 1) !== TYPE.OPT || raw.length !== p + 11 + raw.readUInt16BE(p + 9)) return null;
      for (let o = p + 11; o < raw.length; ) {
        if (o + 4 > raw.length) return null;
        o += 4 + raw.readUInt16BE(o + 2);
        if (o > raw.length) return null;
      }
      const ttl = raw.readUInt32BE(p + 5);
      if (((ttl >>> 16) & 0xff) !== 0 || ttl >>> 24 !== 0) return null;
      ednsSize = raw.readUInt16BE(p + 3);
      if (transport === 'udp') size = Math.min(Math.max(ednsSize, CLASSIC_UDP_SIZE), MAX_UDP_ANSWER);
      edns = ttl & 0x8000 ? 2 : 1;
    } else if (raw.length !== questionEnd) return null;
    const shape = size * 4 + edns;
    hash = Math.imul(hash ^ shape, FNV_PRIME);
    // A small integer, so the map keeps it unboxed.
    return { hash: (hash ^ (hash >>> 16)) & 0x3fffffff, shape, questionEnd, type: qtype, ednsSize, dnssecOk: edns === 2 };
  }

  /** The name of a classified query in wire form, lower case (what `CachedAnswer.wireName` holds; made only on a miss). */
  static wireName(raw: Buffer, q: FastQuery): string {
    const name = raw.toString('latin1', 12, q.questionEnd - 4);
    return /[A-Z]/.test(name) ? name.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : name;
  }

  /**
   * The question's name in wire form as the client spelled it, for the query
   * log: the entry's own string when the bytes are the same (no string made
   * per query), else one made from the request — a Windows client asks
   * `_VLMCS._TCP.…` in upper case, and a user reading the log sees that.
   */
  static spelledWireName(e: CachedAnswer, q: FastQuery, raw: Buffer): string {
    const end = q.questionEnd - 4;
    return raw.compare(e.question, 0, e.question.length - 4, 12, end) === 0 ? e.wireName : raw.toString('latin1', 12, end);
  }

  /** The current entry for this question and shape, or null (none, another question with the same hash, or stale). */
  find(q: FastQuery, raw: Buffer, zones: ZoneSet): CachedAnswer | null {
    const e = this.#entries.get(q.hash);
    if (!e || e.shape !== q.shape || e.question.length !== q.questionEnd - 12) return null;
    if (e.generation !== zones.generation || (e.zone && e.zone.version !== e.version)) return null;
    const question = e.question;
    for (let i = 0; i < question.length; i++) if (question[i] !== lower(raw[12 + i]!)) return null;
    return e;
  }

  /** The entry's answer for this request: its id, RD bit and the question as spelled (0x20 case randomisation). */
  static answer(e: CachedAnswer, q: FastQuery, raw: Buffer): Buffer {
    const out = Buffer.from(e.bytes);
    out[0] = raw[0]!;
    out[1] = raw[1]!;
    out[2] = (out[2]! & ~0x01) | (raw[2]! & 0x01);
    raw.copy(out, 12, 12, q.questionEnd);
    return out;
  }

  set(q: FastQuery, raw: Buffer, bytes: Buffer, zone: Zone | undefined, zones: ZoneSet): void {
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    const question = Buffer.alloc(q.questionEnd - 12);
    for (let i = 0; i < question.length; i++) question[i] = lower(raw[12 + i]!);
    const wireName = question.toString('latin1', 0, question.length - 4);
    this.#entries.set(q.hash, { question, shape: q.shape, wireName, bytes, zone, version: zone?.version ?? 0, generation: zones.generation });
  }
}
