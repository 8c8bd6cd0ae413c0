import { CLASS, TYPE, decodeMessage, emptyMessage, encodeMessage } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { AnswerCache } from './answer-cache.js';
import { handleMessage } from './handle-message.js';
import { defaultZone } from './zone/default-zone.js';
import { ZoneSet } from './zone/zone-set.js';

function setup() {
  const zones = new ZoneSet();
  const zone = defaultZone('lab.test');
  zone.add({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: 0, weight: 0, port: 1688, target: 'ns.lab.test' } });
  zones.add(zone);
  return { zone, zones, cached: { zones, keys: new Map(), now: Date.now, cache: new AnswerCache() }, plain: { zones, keys: new Map(), now: Date.now } };
}

const query = (name: string, id: number, rd = false) => {
  const m = emptyMessage(id);
  m.rd = rd;
  m.questions = [{ name, type: TYPE.SRV, class: CLASS.IN }];
  return encodeMessage(m);
};

describe('answer cache (the fast path)', () => {
  test('a cached answer is byte for byte what the full path gives, with the id, RD bit and spelling of each request', () => {
    const { cached, plain } = setup();
    for (const [i, name] of ['_vlmcs._tcp.lab.test', '_VLMCS._tcp.Lab.TEST', '_vlmcs._TCP.lab.test'].entries()) {
      const raw = query(name, 100 + i, i === 1);
      expect(handleMessage(raw, 'udp', cached).bytes).toEqual(handleMessage(raw, 'udp', plain).bytes);
    }
  });

  test('each name, type and EDNS shape has its own entry: interleaved, every answer is the full path\'s', () => {
    const { cached, plain } = setup();
    const asked = (name: string, type: number, edns: boolean, id: number) => {
      const m = emptyMessage(id);
      m.questions = [{ name, type, class: CLASS.IN }];
      if (edns) m.edns = { udpSize: 1232, version: 0, dnssecOk: false, extendedRcode: 0 };
      return encodeMessage(m);
    };
    const cases = ['_vlmcs._tcp.lab.test', 'ns.lab.test', 'nothing.lab.test', 'NS.lab.test'].flatMap((name) => [TYPE.SRV, TYPE.A].flatMap((type) => [false, true].map((edns) => ({ name, type, edns }))));
    for (let round = 0; round < 3; round++) {
      for (const [i, c] of cases.entries()) {
        const raw = asked(c.name, c.type, c.edns, round * 100 + i);
        expect(handleMessage(raw, 'udp', cached).bytes, `${c.name} ${c.type} edns=${c.edns}`).toEqual(handleMessage(raw, 'udp', plain).bytes);
      }
    }
  });

  test('a change to the zone makes cached answers stale', () => {
    const { zone, cached } = setup();
    const before = decodeMessage(handleMessage(query('_vlmcs._tcp.lab.test', 1), 'udp', cached).bytes as Buffer);
    expect(before.answers).toHaveLength(1);
    zone.add({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: 10, weight: 0, port: 1688, target: 'kms2.lab.test' } });
    const after = decodeMessage(handleMessage(query('_vlmcs._tcp.lab.test', 2), 'udp', cached).bytes as Buffer);
    expect(after.answers).toHaveLength(2);
  });

  test('queries that are not plain take the full path', () => {
    const m = emptyMessage(5);
    m.questions = [{ name: 'lab.test', type: TYPE.AXFR, class: CLASS.IN }];
    expect(AnswerCache.classify(encodeMessage(m), 'tcp')).toBeNull();
    m.questions = [{ name: 'lab.test', type: TYPE.SOA, class: CLASS.IN }];
    m.edns = { udpSize: 1232, version: 1, dnssecOk: false, extendedRcode: 0 };
    expect(AnswerCache.classify(encodeMessage(m), 'udp')).toBeNull();
    m.edns.version = 0;
    expect(AnswerCache.classify(encodeMessage(m), 'udp')).toMatchObject({ ednsSize: 1232, dnssecOk: false });
  });

  test('an OPT with options (dig\'s COOKIE, a BIND secondary\'s EXPIRE) takes the fast path with the full path\'s answer; malformed options do not', () => {
    const { cached, plain } = setup();
    /** A query with EDNS whose OPT carries `options` (code, data) as given. */
    const withOptions = (id: number, name: string, type: number, options: Array<[number, Buffer]>, lengthFix = 0) => {
      const m = emptyMessage(id);
      m.questions = [{ name, type, class: CLASS.IN }];
      m.edns = { udpSize: 1232, version: 0, dnssecOk: false, extendedRcode: 0 };
      const bare = encodeMessage(m);
      const opts = Buffer.concat(options.map(([code, data]) => Buffer.concat([Buffer.from([code >> 8, code & 0xff, data.length >> 8, (data.length + lengthFix) & 0xff]), data])));
      const raw = Buffer.concat([bare, opts]);
      raw.writeUInt16BE(opts.length, bare.length - 2);
      return raw;
    };
    const cookie: [number, Buffer] = [10, Buffer.from('0123456789abcdef', 'hex')];
    const expire: [number, Buffer] = [9, Buffer.alloc(0)];
    for (let round = 0; round < 2; round++) {
      for (const [i, options] of [[cookie], [expire], [expire, cookie], []].entries()) {
        const raw = withOptions(round * 10 + i, i % 2 ? 'lab.test' : '_vlmcs._tcp.lab.test', i % 2 ? TYPE.SOA : TYPE.SRV, options);
        expect(AnswerCache.classify(raw, 'udp')).not.toBeNull();
        expect(handleMessage(raw, 'udp', cached).bytes).toEqual(handleMessage(raw, 'udp', plain).bytes);
      }
    }
    // An option running past the OPT record's data: the full path judges it.
    expect(AnswerCache.classify(withOptions(7, 'lab.test', TYPE.SOA, [cookie], 1), 'udp')).toBeNull();
    const cut = withOptions(8, 'lab.test', TYPE.SOA, [cookie]);
    expect(AnswerCache.classify(cut.subarray(0, cut.length - 1), 'udp')).toBeNull();
  });
});
