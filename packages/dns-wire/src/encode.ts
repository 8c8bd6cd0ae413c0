import { TYPE } from './constants.js';
import type { Message, RData, ResourceRecord } from './message.js';
import { nameLabels } from './name.js';
import { dnsWireError } from './wire-error.js';

/** What this server advertises in its OPT record: RFC 9715 / DNS flag day 2020 size. */
export const SERVER_UDP_SIZE = 1232;

/**
 * Writes into one growing buffer with a name-compression table (RFC 1035
 * §4.1.4). `mark()`/`reset()` let a section be rolled back when it does not fit.
 */
class Writer {
  buf = Buffer.allocUnsafe(512);
  o = 0;
  names = new Map<string, number>();

  #ensure(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + n));
    this.buf.copy(next, 0, 0, this.o);
    this.buf = next;
  }
  u8(v: number): void {
    this.#ensure(1);
    this.buf[this.o++] = v;
  }
  u16(v: number): void {
    this.#ensure(2);
    this.o = this.buf.writeUInt16BE(v, this.o);
  }
  u32(v: number): void {
    this.#ensure(4);
    this.o = this.buf.writeUInt32BE(v >>> 0, this.o);
  }
  bytes(b: Buffer): void {
    this.#ensure(b.length);
    this.o += b.copy(this.buf, this.o);
  }
  name(name: string, compress = true): void {
    const labels = nameLabels(name);
    // Each suffix (the compression table's key) is a slice of the lower-cased name, unless lower-casing
    // changed its length (a character outside Latin-1), and each label is written in place.
    const plain = name.endsWith('.') ? name.slice(0, -1) : name;
    const lower = plain.toLowerCase();
    const aligned = lower.length === plain.length;
    let at = 0;
    for (let i = 0; i < labels.length; i++) {
      const suffix = !aligned ? labels.slice(i).join('.').toLowerCase() : at === 0 ? lower : lower.slice(at);
      const pointer = compress ? this.names.get(suffix) : undefined;
      if (pointer !== undefined) return this.u16(0xc000 | pointer);
      if (this.o < 0x4000 && !this.names.has(suffix)) this.names.set(suffix, this.o);
      const label = labels[i]!;
      this.#ensure(1 + label.length);
      this.buf[this.o++] = label.length;
      this.o += this.buf.write(label, this.o, 'latin1');
      at += label.length + 1;
    }
    this.u8(0);
  }
  mark(): { o: number; names: number } {
    return { o: this.o, names: this.names.size };
  }
  reset(m: { o: number; names: number }): void {
    this.o = m.o;
    // Forget names first written after the mark: they are gone from the buffer.
    for (const [k, v] of this.names) if (v >= m.o) this.names.delete(k);
  }
}

function writeRData(w: Writer, data: RData): void {
  switch (data.type) {
    case 'A': {
      const parts = data.address.split('.').map(Number);
      if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw dnsWireError(`"${data.address}" is not an IPv4 address`);
      for (const p of parts) w.u8(p);
      return;
    }
    case 'AAAA':
      return w.bytes(ipv6Bytes(data.address));
    case 'NS':
    case 'CNAME':
    case 'PTR':
      return w.name(data.target);
    case 'SOA':
      w.name(data.mname);
      w.name(data.rname);
      for (const v of [data.serial, data.refresh, data.retry, data.expire, data.minimum]) w.u32(v);
      return;
    case 'SRV':
      w.u16(data.priority);
      w.u16(data.weight);
      w.u16(data.port);
      // RFC 2782: "name compression is not to be used for this field".
      return w.name(data.target, false);
    case 'TXT':
      for (const t of data.texts) {
        const b = Buffer.from(t, 'utf8');
        if (b.length > 255) throw dnsWireError('a TXT string is longer than 255 bytes');
        w.u8(b.length);
        w.bytes(b);
      }
      return;
    case 'TSIG':
      w.name(data.algorithm, false);
      w.u16(Math.floor(data.timeSigned / 2 ** 32));
      w.u32(data.timeSigned % 2 ** 32);
      w.u16(data.fudge);
      w.u16(data.mac.length);
      w.bytes(data.mac);
      w.u16(data.originalId);
      w.u16(data.error);
      w.u16(data.other.length);
      w.bytes(data.other);
      return;
    case 'RAW':
      return w.bytes(data.raw);
  }
}

function writeRecord(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name, rr.type !== TYPE.TSIG);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.o;
  w.u16(0);
  if (rr.data) writeRData(w, rr.data);
  w.buf.writeUInt16BE(w.o - lenAt - 2, lenAt);
}

/** One record on its own, names uncompressed: the TSIG record appended to a message already encoded (tsig.ts). */
export function encodeRecord(rr: ResourceRecord): Buffer {
  const w = new Writer();
  writeRecord(w, rr);
  return Buffer.from(w.buf.subarray(0, w.o));
}

/** How a message is encoded (the UDP size limit that sets TC). */
export interface EncodeOptions {
  /** UDP: the most the client takes (512, or its EDNS size); past it the message is truncated (TC). */
  maxSize?: number;
}

/**
 * Encodes a message. With `maxSize`, answers and authority that do not fit
 * are dropped and TC set (the client retries over TCP); additional records
 * that do not fit are simply left out (RFC 2181 §9).
 */
export function encodeMessage(msg: Message, options: EncodeOptions = {}): Buffer {
  const max = options.maxSize ?? 65_535;
  const w = new Writer();
  w.u16(msg.id);
  w.u16(0); // flags, written last (TC may change)
  w.u16(msg.questions.length);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  for (const q of msg.questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  const optSize = msg.edns ? 11 : 0;
  let tc = msg.tc;
  const afterQuestion = w.mark();
  let counts = [msg.answers.length, msg.authorities.length, 0];
  for (const rr of msg.answers) writeRecord(w, rr);
  for (const rr of msg.authorities) writeRecord(w, rr);
  if (w.o + optSize > max) {
    w.reset(afterQuestion);
    counts = [0, 0, 0];
    tc = true;
  } else {
    for (const rr of msg.additionals) {
      const m = w.mark();
      writeRecord(w, rr);
      if (w.o + optSize > max) {
        w.reset(m);
        break;
      }
      counts[2]!++;
    }
  }
  if (msg.edns) {
    w.name('');
    w.u16(TYPE.OPT);
    w.u16(SERVER_UDP_SIZE);
    w.u32(((msg.edns.extendedRcode & 0xff) << 24) | ((msg.edns.version & 0xff) << 16) | (msg.edns.dnssecOk ? 0x8000 : 0));
    w.u16(0);
    counts[2]!++;
  }
  if (msg.tsig) {
    writeRecord(w, msg.tsig);
    counts[2]!++;
  }
  const flags =
    (msg.qr ? 0x8000 : 0) | ((msg.opcode & 0xf) << 11) | (msg.aa ? 0x0400 : 0) | (tc ? 0x0200 : 0) |
    (msg.rd ? 0x0100 : 0) | (msg.ra ? 0x0080 : 0) | (msg.rcode & 0xf);
  w.buf.writeUInt16BE(flags, 2);
  w.buf.writeUInt16BE(counts[0]!, 6);
  w.buf.writeUInt16BE(counts[1]!, 8);
  w.buf.writeUInt16BE(counts[2]!, 10);
  return Buffer.from(w.buf.subarray(0, w.o));
}

/** An IPv6 address as its 16 bytes; throws for text that is not one. */
export function ipv6Bytes(address: string): Buffer {
  const [head, tail, extra] = address.split('::');
  if (extra !== undefined) throw dnsWireError(`"${address}" is not an IPv6 address`);
  const parse = (s: string | undefined) => (s ? s.split(':') : []);
  const h = parse(head);
  const t = parse(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g: string) => !/^[0-9a-f]{1,4}$/i.test(g))) throw dnsWireError(`"${address}" is not an IPv6 address`);
  const b = Buffer.alloc(16);
  groups.forEach((g: string, i: number) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

