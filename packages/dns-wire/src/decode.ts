import { CLASS, TYPE } from './constants.js';
import type { Edns, Message, Question, RData, ResourceRecord } from './message.js';
import { dnsWireError } from './wire-error.js';

const HEADER = 12;
/** Smallest question (root name + type + class) and record (+ ttl + rdlength). */
const MIN_QUESTION = 5;
const MIN_RECORD = 11;

/**
 * A bounds-checked reader. Every read checks the remaining length first, and
 * section counts are checked against what the packet could hold before any
 * record is read, so a 12-byte packet claiming 65,535 records fails at once.
 */
class Reader {
  o = HEADER;
  constructor(readonly buf: Buffer) {}

  need(n: number, what: string): number {
    const at = this.o;
    if (at + n > this.buf.length) throw dnsWireError(`${what} runs past the end of the message`);
    this.o += n;
    return at;
  }
  u8(what: string): number {
    return this.buf[this.need(1, what)]!;
  }
  u16(what: string): number {
    return this.buf.readUInt16BE(this.need(2, what));
  }
  u32(what: string): number {
    return this.buf.readUInt32BE(this.need(4, what));
  }

  /** A possibly compressed name (RFC 1035 §4.1.4), spelled as sent; pointers must point backwards, so no loop is possible. */
  name(): string {
    const labels: string[] = [];
    let pos = this.o;
    let jumped = false;
    let octets = 1;
    for (;;) {
      if (pos >= this.buf.length) throw dnsWireError('name runs past the end of the message');
      const len = this.buf[pos]!;
      if (len === 0) {
        if (!jumped) this.o = pos + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw dnsWireError('compression pointer runs past the end');
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        if (target >= pos) throw dnsWireError('compression pointer does not point backwards');
        if (!jumped) this.o = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if (len & 0xc0) throw dnsWireError(`bad label type 0x${len.toString(16)}`);
      octets += len + 1;
      if (octets > 255) throw dnsWireError('name longer than 255 octets');
      if (pos + 1 + len > this.buf.length) throw dnsWireError('label runs past the end of the message');
      const label = this.buf.toString('latin1', pos + 1, pos + 1 + len);
      // Names are handled as dotted text, so a dot inside a label cannot be represented.
      if (label.includes('.')) throw dnsWireError('a label contains a dot');
      labels.push(label);
      pos += 1 + len;
    }
    return labels.join('.');
  }
}

function checkCount(r: Reader, count: number, min: number, section: string): void {
  if (count * min > r.buf.length - r.o) throw dnsWireError(`${section} count ${count} cannot fit in the message`);
}

function rdata(r: Reader, type: number, end: number): RData | null {
  if (r.o === end) return null;
  const bytes = () => r.buf.subarray(r.need(end - r.o, 'rdata'), end);
  switch (type) {
    case TYPE.A: {
      if (end - r.o !== 4) throw dnsWireError('A rdata must be 4 bytes');
      const b = r.buf.subarray(r.need(4, 'A'), end);
      return { type: 'A', address: `${b[0]}.${b[1]}.${b[2]}.${b[3]}` };
    }
    case TYPE.AAAA: {
      if (end - r.o !== 16) throw dnsWireError('AAAA rdata must be 16 bytes');
      const at = r.need(16, 'AAAA');
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(r.buf.readUInt16BE(at + i).toString(16));
      return { type: 'AAAA', address: compressIpv6(groups) };
    }
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR:
      return { type: type === TYPE.NS ? 'NS' : type === TYPE.CNAME ? 'CNAME' : 'PTR', target: r.name() };
    case TYPE.SOA:
      return { type: 'SOA', mname: r.name(), rname: r.name(), serial: r.u32('serial'), refresh: r.u32('refresh'), retry: r.u32('retry'), expire: r.u32('expire'), minimum: r.u32('minimum') };
    case TYPE.SRV:
      return { type: 'SRV', priority: r.u16('priority'), weight: r.u16('weight'), port: r.u16('port'), target: r.name() };
    case TYPE.TXT: {
      const texts: string[] = [];
      while (r.o < end) {
        const len = r.u8('TXT length');
        texts.push(r.buf.toString('utf8', r.need(len, 'TXT string'), r.o));
      }
      return { type: 'TXT', texts };
    }
    case TYPE.TSIG: {
      const algorithm = r.name();
      const high = r.u16('time signed');
      const timeSigned = high * 2 ** 32 + r.u32('time signed');
      const fudge = r.u16('fudge');
      const macLen = r.u16('MAC size');
      const mac = Buffer.from(r.buf.subarray(r.need(macLen, 'MAC'), r.o));
      const originalId = r.u16('original id');
      const error = r.u16('error');
      const otherLen = r.u16('other length');
      const other = Buffer.from(r.buf.subarray(r.need(otherLen, 'other data'), r.o));
      return { type: 'TSIG', algorithm, timeSigned, fudge, mac, originalId, error, other };
    }
    default:
      return { type: 'RAW', raw: Buffer.from(bytes()) };
  }
}

function record(r: Reader): ResourceRecord {
  const name = r.name();
  const type = r.u16('type');
  const cls = r.u16('class');
  const ttl = r.u32('ttl');
  const len = r.u16('rdlength');
  const end = r.o + len;
  if (end > r.buf.length) throw dnsWireError('rdata runs past the end of the message');
  const data = rdata(r, type, end);
  if (r.o !== end) throw dnsWireError(`rdata of type ${type} has ${end - r.o} bytes left over`);
  return { name, type, class: cls, ttl, data };
}

/** Reads a whole DNS message; throws KMSLAB_DNS_MALFORMED (→ FORMERR) on anything malformed. */
export function decodeMessage(buf: Buffer): Message {
  if (buf.length < HEADER) throw dnsWireError('shorter than a DNS header');
  const flags = buf.readUInt16BE(2);
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] as const;
  const r = new Reader(buf);
  const msg: Message = {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions: [], answers: [], authorities: [], additionals: [], edns: null, tsig: null, tsigOffset: -1,
  };
  checkCount(r, counts[0], MIN_QUESTION, 'question');
  for (let i = 0; i < counts[0]; i++) {
    const q: Question = { name: r.name(), type: r.u16('qtype'), class: r.u16('qclass') };
    msg.questions.push(q);
  }
  checkCount(r, counts[1] + counts[2] + counts[3], MIN_RECORD, 'record');
  for (let i = 0; i < counts[1]; i++) msg.answers.push(record(r));
  for (let i = 0; i < counts[2]; i++) msg.authorities.push(record(r));
  for (let i = 0; i < counts[3]; i++) {
    const start = r.o;
    const rr = record(r);
    if (msg.tsig) throw dnsWireError('TSIG must be the last record');
    if (rr.type === TYPE.OPT) {
      if (msg.edns || rr.name !== '') throw dnsWireError('more than one OPT record, or OPT not at the root');
      msg.edns = optToEdns(rr);
    } else if (rr.type === TYPE.TSIG) {
      if (rr.class !== CLASS.ANY) throw dnsWireError('TSIG class must be ANY');
      msg.tsig = rr;
      msg.tsigOffset = start;
    } else msg.additionals.push(rr);
  }
  if (r.o !== buf.length) throw dnsWireError(`${buf.length - r.o} bytes after the last record`);
  return msg;
}

function optToEdns(rr: ResourceRecord): Edns {
  return {
    // RFC 6891 §6.2.5: values below 512 are treated as 512.
    udpSize: Math.max(rr.class, 512),
    extendedRcode: rr.ttl >>> 24,
    version: (rr.ttl >>> 16) & 0xff,
    dnssecOk: (rr.ttl & 0x8000) !== 0,
  };
}

/** RFC 5952 text form: the longest run of two or more zero groups becomes "::". */
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
