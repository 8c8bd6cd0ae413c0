import { describe, expect, test } from 'vitest';
import { CLASS, TYPE } from './constants.js';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { emptyMessage, type Message } from './message.js';

function roundTrip(m: Message): Message {
  return decodeMessage(encodeMessage(m));
}

describe('DNS wire codec', () => {
  test('every record type kmslab serves round-trips', () => {
    const m = emptyMessage(7);
    m.qr = true;
    m.aa = true;
    m.questions = [{ name: 'lab.test', type: TYPE.ANY, class: CLASS.IN }];
    m.answers = [
      { name: 'lab.test', type: TYPE.SOA, class: 1, ttl: 60, data: { type: 'SOA', mname: 'ns.lab.test', rname: 'h.lab.test', serial: 4294967295, refresh: 1, retry: 2, expire: 3, minimum: 4 } },
      { name: 'lab.test', type: TYPE.NS, class: 1, ttl: 60, data: { type: 'NS', target: 'ns.lab.test' } },
      { name: 'a.lab.test', type: TYPE.A, class: 1, ttl: 60, data: { type: 'A', address: '10.0.0.255' } },
      { name: 'a.lab.test', type: TYPE.AAAA, class: 1, ttl: 60, data: { type: 'AAAA', address: '2001:db8::1:0:0:1' } },
      { name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: 1, ttl: 60, data: { type: 'SRV', priority: 1, weight: 2, port: 1688, target: 'a.lab.test' } },
      { name: 't.lab.test', type: TYPE.TXT, class: 1, ttl: 60, data: { type: 'TXT', texts: ['one', '', 'three ü'] } },
      { name: 'c.lab.test', type: TYPE.CNAME, class: 1, ttl: 60, data: { type: 'CNAME', target: 'a.lab.test' } },
    ];
    m.edns = { udpSize: 1232, version: 0, dnssecOk: false, extendedRcode: 0 };
    expect(roundTrip(m)).toEqual({ ...m, edns: { ...m.edns } });
  });

  test('names are compressed, but never an SRV target (RFC 2782)', () => {
    const m = emptyMessage(1);
    m.questions = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: 1 }];
    m.answers = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: 1, ttl: 1, data: { type: 'SRV', priority: 0, weight: 0, port: 1688, target: 'lab.test' } }];
    const bytes = encodeMessage(m);
    // Owner compressed to a pointer to offset 12; target spelled out in full.
    expect(bytes.subarray(38, 40)).toEqual(Buffer.from([0xc0, 12]));
    expect(bytes.includes(Buffer.from('\x03lab\x04test\x00', 'latin1'), 40)).toBe(true);
  });

  test('hostile input fails fast: counts that cannot fit, pointer loops, labels past the end', () => {
    const counts = Buffer.alloc(12, 0xff);
    const t0 = performance.now();
    expect(() => decodeMessage(counts)).toThrow(/cannot fit/);
    expect(performance.now() - t0).toBeLessThan(500); // no stall (dns2 3.0.0: ~1.7 s)
    const loop = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => decodeMessage(loop)).toThrow(/backwards/);
    const past = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([40, 97, 98, 99, 100, 101, 102, 103, 104])]);
    expect(() => decodeMessage(past)).toThrow(/past the end/);
    const dotted = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([3, 97, 46, 98, 0, 0, 1, 0, 1])]);
    expect(() => decodeMessage(dotted)).toThrow(/label contains a dot/); // found by the fuzz test: it crashed the answer encoder
    const trailing = Buffer.concat([encodeMessage(emptyMessage(3)), Buffer.from([0])]);
    expect(() => decodeMessage(trailing)).toThrow(/bytes after the last record/);
  });

  test('truncation: answers that do not fit drop out and TC is set; additional records are just left out', () => {
    const m = emptyMessage(9);
    m.qr = true;
    m.questions = [{ name: 'big.lab.test', type: TYPE.TXT, class: 1 }];
    m.answers = Array.from({ length: 10 }, () => ({ name: 'big.lab.test', type: TYPE.TXT, class: 1, ttl: 1, data: { type: 'TXT' as const, texts: ['x'.repeat(100)] } }));
    const small = decodeMessage(encodeMessage(m, { maxSize: 512 }));
    expect(small.tc).toBe(true);
    expect(small.answers).toEqual([]);
    m.answers = m.answers.slice(0, 2);
    m.additionals = Array.from({ length: 10 }, (_, i) => ({ name: `h${i}.lab.test`, type: TYPE.TXT, class: 1, ttl: 1, data: { type: 'TXT' as const, texts: ['y'.repeat(100)] } }));
    const partial = decodeMessage(encodeMessage(m, { maxSize: 512 }));
    expect(partial.tc).toBe(false);
    expect(partial.answers).toHaveLength(2);
    expect(partial.additionals.length).toBeGreaterThan(0);
    expect(partial.additionals.length).toBeLessThan(10);
  });
});
