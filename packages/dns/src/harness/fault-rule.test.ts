import { describe, expect, test } from 'vitest';
import { seededRandom } from '@kmslab/core';
import { TYPE } from '@kmslab/dns-wire';
import { parseFaultRule, ruleText, sameAddress, toFaultRule } from './fault-rule.js';
import { FaultSet, MAX_FAULTS, type FaultQuery } from './fault-set.js';

const NOW = Date.UTC(2026, 11, 1);
const srv = (extra: Partial<FaultQuery> = {}): FaultQuery => ({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, address: '127.0.0.1', transport: 'udp', update: false, ...extra });

describe('fault rules (docs/dns-faults.md)', () => {
  test('the flag form: name, type, action and every option', () => {
    const r = parseFaultRule('_vlmcs._tcp.LAB.test./SRV=servfail,probability=0.5,every=2,count=3,from=127.0.0.0/8,transport=udp,until=10m', NOW);
    expect(r).toMatchObject({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, action: { kind: 'servfail' }, probability: 0.5, every: 2, count: 3, from: '127.0.0.0/8', transport: 'udp', until: NOW + 600_000 });
    expect(parseFaultRule('*.lab.test=delay:250', NOW).action).toEqual({ kind: 'delay', ms: 250 });
    expect(parseFaultRule('kms1.lab.test/A=ttl:5', NOW).action).toEqual({ kind: 'ttl', ttl: 5 });
    expect(ruleText(parseFaultRule('kms1.lab.test/A=ttl:5,count=2', NOW))).toBe('kms1.lab.test/A=ttl:5,count=2');
  });

  test('a malformed rule is a one-line error naming the part that is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['no-equals-sign', /the rule must be NAME\[\/TYPE\]=ACTION/],
      ['x.test/BOGUS=servfail', /type "BOGUS" is not one of/],
      ['x.test=explode', /action "explode" is not one of servfail/],
      ['x.test=delay:abc', /action "delay:abc" needs delay:N/],
      ['x.test=servfail,probability=2', /probability "2" must be a number from 0 to 1/],
      ['x.test=servfail,every=0', /every "0" must be a whole number from 1 to/],
      ['x.test=servfail,every=1e3', /every "1e3" must be a whole number/],
      ['x.test=servfail,probability=0x1', /probability "0x1" must be a number from 0 to 1/],
      ['x.test=servfail,from=127.0.0.0/', /from "127.0.0.0\/" must be an address or a prefix/],
      ['x.test=servfail,from=fe80::1%eth0', /from "fe80::1%eth0" must be an address/],
      ['x.test=servfail,until=999999999w', /until "999999999w" must be an ISO time or a duration of at most 3650d/],
      ['x.test=servfail,until=5', /until "5" must be an ISO time/],
      ['.=servfail', /name "." must be a DNS name/],
      ['*.=servfail', /name "\*." must be a DNS name/],
      [`${'a'.repeat(64)}.test=servfail`, /must be a DNS name/],
      [`${'abcdefghi.'.repeat(30)}test=servfail`, /must be a DNS name/],
      ['a b.test=servfail', /must be a DNS name/],
      ['a.*.test=servfail', /must be a DNS name/],
      ['x.test=servfail,from=10.0.0.0/33', /from "10.0.0.0\/33" must be an address or a prefix/],
      ['x.test=servfail,transport=quic', /transport "quic" must be udp or tcp/],
      ['x.test=servfail,colour=red', /option "colour=red" is not one of/],
      ['x.test=servfail,until=soon', /until "soon" must be an ISO time or a duration/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseFaultRule(text, NOW), text).toThrow(message);
      try {
        parseFaultRule(text, NOW);
      } catch (err) {
        expect((err as { code: string }).code).toBe('KMSLAB_INVALID_ARGUMENT');
        expect((err as Error).message).not.toContain('\n');
      }
    }
    expect(() => toFaultRule({ name: '', action: 'drop' }, NOW)).toThrow(/name is missing/);
  });

  test('the API form checks every field for its type: a number, array or object where a string belongs is one line, and unknown fields are refused', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ name: 'x.test', action: 'drop', from: 127 }, /from "127" must be an address/],
      [{ name: 'x.test', action: 'drop', from: ['127.0.0.1'] }, /from "\["127.0.0.1"\]" must be an address/],
      [{ name: 'x.test', action: 'drop', from: { a: 1 } }, /from "\{"a":1\}" must be an address/],
      [{ name: 'x.test', action: 'drop', until: 5 }, /until "5" must be an ISO time/],
      [{ name: 'x.test', action: 'drop', until: '999999999w' }, /until "999999999w"/],
      [{ name: 'x.test', action: 'drop', probability: '0x1' }, /probability "0x1"/],
      [{ name: 'x.test', action: 'drop', type: ['A'] }, /type "\["A"\]" is not one of/],
      [{ name: 'x.test', action: 7 }, /action is missing/],
      [{ name: 42, action: 'drop' }, /name is missing/],
      [{ name: 'x\u0000y.test', action: 'drop' }, /must be a DNS name/],
      [{ name: 'x\ny.test', action: 'drop' }, /must be a DNS name/],
      [{ name: 'x.test', action: 'drop', probabilty: 0.5 }, /field "probabilty" is not one of name, type, action/],
    ];
    for (const [input, message] of cases) {
      const tried = () => toFaultRule(input as never, NOW);
      expect(tried, JSON.stringify(input)).toThrow(message);
      expect(() => tried()).toThrow(expect.objectContaining({ code: 'KMSLAB_INVALID_ARGUMENT', message: expect.not.stringMatching(/[\n\x00]/) }));
    }
    expect(toFaultRule({ name: 'x.test', action: 'drop', until: '2027-01-01T00:00:00Z', probability: 0.25, every: '2' as unknown as number }, NOW)).toMatchObject({ until: Date.UTC(2027, 0, 1), probability: 0.25, every: 2 });
  });
});

describe('FaultSet', () => {
  const set = (seed = 1) => new FaultSet({ random: seededRandom(seed), now: () => NOW });

  test('matching: exact and wildcard names, type, transport, client prefix (IPv4 seen as ::ffff:a.b.c.d too)', () => {
    const s = set();
    s.add(parseFaultRule('*.lab.test/SRV=refused,transport=udp,from=127.0.0.0/8', NOW));
    expect(s.match(srv())?.action).toEqual({ kind: 'refused' });
    expect(s.match(srv({ address: '::ffff:127.0.0.9' }))?.action).toEqual({ kind: 'refused' });
    expect(s.match(srv({ address: '192.0.2.1' }))).toBeNull();
    expect(s.match(srv({ transport: 'tcp' }))).toBeNull();
    expect(s.match(srv({ type: TYPE.A }))).toBeNull();
    expect(s.match(srv({ name: 'lab.test' }))).toBeNull(); // *.lab.test is below lab.test only
    expect(s.match(srv({ update: true }))).toBeNull(); // query faults leave updates alone
  });

  test('case=exact: only the spelling the rule gives (a byte-matching filter on the DNS path); without it any case, as DNS compares names', () => {
    const s = set();
    const exact = s.add(parseFaultRule('_vlmcs._tcp.lab.test/SRV=nxdomain,case=exact', NOW));
    expect(exact.text).toBe('_vlmcs._tcp.lab.test/SRV=nxdomain,case=exact');
    const spelled = (name: string) => srv({ name: name.toLowerCase(), spelled: () => name });
    expect(s.match(spelled('_vlmcs._tcp.lab.test'))?.action).toEqual({ kind: 'nxdomain' });
    expect(s.match(spelled('_VLMCS._TCP.lab.test'))).toBeNull();
    expect(s.match(spelled('_vlmcs._tcp.LAB.test'))).toBeNull();
    expect(exact.matched).toBe(1); // a query spelled otherwise is not counted against count= or every=
    const upper = set();
    upper.add(parseFaultRule('*.LAB.TEST/SRV=refused,case=exact', NOW));
    expect(upper.match(spelled('_VLMCS._TCP.LAB.TEST'))?.action).toEqual({ kind: 'refused' });
    expect(upper.match(spelled('_vlmcs._tcp.lab.test'))).toBeNull();
    const any = set();
    any.add(parseFaultRule('_VLMCS._TCP.lab.test/SRV=refused', NOW));
    expect(any.match(spelled('_vlmcs._tcp.lab.test'))?.action).toEqual({ kind: 'refused' });
    expect(() => parseFaultRule('a.lab.test=drop,case=upper', NOW)).toThrow(/case "upper" must be exact or any/);
    expect(toFaultRule({ name: 'A.lab.test', action: 'drop', case: 'exact' }, NOW).spelling).toBe('A.lab.test');
  });

  test('every=N fires on each Nth match; count=N stops after N; until ends it; remove and clear', () => {
    let now = NOW;
    const s = new FaultSet({ random: Math.random, now: () => now });
    const every = s.add(parseFaultRule('a.lab.test=drop,every=3', NOW));
    const fired = Array.from({ length: 9 }, () => s.match(srv({ name: 'a.lab.test' })) !== null);
    expect(fired).toEqual([false, false, true, false, false, true, false, false, true]);
    s.add(parseFaultRule('b.lab.test=nxdomain,count=2', NOW));
    expect(Array.from({ length: 4 }, () => s.match(srv({ name: 'b.lab.test' }))?.action.kind ?? null)).toEqual(['nxdomain', 'nxdomain', null, null]);
    s.add(parseFaultRule('c.lab.test=servfail,until=1m', NOW));
    expect(s.match(srv({ name: 'c.lab.test' }))).not.toBeNull();
    now += 61_000;
    expect(s.match(srv({ name: 'c.lab.test' }))).toBeNull();
    expect(s.list().map((f) => f.applied)).toEqual([3, 2, 1]);
    expect(s.remove(every.id)).toBe(true);
    expect(s.size).toBe(2);
    s.clear();
    expect(s.match(srv({ name: 'b.lab.test' }))).toBeNull();
  });

  test('probability is seeded: the same seed fails the same queries; about half at 0.5', () => {
    const run = (seed: number) => {
      const s = set(seed);
      s.add(parseFaultRule('_vlmcs._tcp.lab.test/SRV=servfail,probability=0.5', NOW));
      return Array.from({ length: 1000 }, () => s.match(srv()) !== null);
    };
    expect(run(7)).toEqual(run(7));
    const hits = run(7).filter(Boolean).length;
    expect(hits).toBeGreaterThan(430);
    expect(hits).toBeLessThan(570);
  });

  test('update faults apply to dynamic updates only', () => {
    const s = set();
    s.add(parseFaultRule('lab.test=update-refused', NOW));
    expect(s.match(srv({ name: 'lab.test', type: TYPE.SOA, update: true }))?.action).toEqual({ kind: 'update-refused' });
    expect(s.match(srv({ name: 'lab.test', type: TYPE.SOA }))).toBeNull();
  });

  test('10,000 rules: at most MAX_FAULTS; matching finds the one rule whose network holds the client among 9,999 that cannot apply; spent rules stop matching', () => {
    const s = set();
    for (let i = 0; i < MAX_FAULTS - 1; i++) s.add(parseFaultRule(`_vlmcs._tcp.lab.test=servfail,from=10.${(i >> 8) & 255}.${i & 255}.0/24`, NOW));
    const last = s.add(parseFaultRule('_vlmcs._tcp.lab.test=refused,from=192.0.2.0/24,count=2', NOW));
    expect(() => s.add(parseFaultRule('x.test=drop', NOW))).toThrow(/At most 10000 fault rules at once/);
    expect(s.match(srv({ address: '127.0.0.1' }))).toBeNull();
    expect(s.match(srv({ address: '10.0.7.9' }))?.id).toBe('8');
    expect(s.match(srv({ address: '::ffff:192.0.2.77' }))).toEqual({ id: last.id, action: { kind: 'refused' } });
    expect(s.match(srv({ address: '192.0.2.77' }))?.id).toBe(last.id);
    expect(s.match(srv({ address: '192.0.2.77' }))).toBeNull();
    expect(s.list().at(-1)).toMatchObject({ applied: 2, matched: 2 });
    expect(s.remove(last.id)).toBe(true);
    expect(s.remove(last.id)).toBe(false);
    expect(s.size).toBe(MAX_FAULTS - 1);
  });

  test('rules on a name and on its suffixes apply in the order they were added', () => {
    const s = set();
    s.add(parseFaultRule('*.lab.test=nxdomain', NOW));
    s.add(parseFaultRule('_vlmcs._tcp.lab.test=servfail', NOW));
    expect(s.match(srv())?.action.kind).toBe('nxdomain');
    s.remove('1');
    expect(s.match(srv())?.action.kind).toBe('servfail');
    for (let i = 0; i < 20; i++) s.add(parseFaultRule(`*.zone${i}.test=drop`, NOW));
    const wire = (n: string) => `${n.split('.').map((l) => String.fromCharCode(l.length) + l).join('')}\x00`;
    expect([s.mayMatchWire(wire('a.zone7.test')), s.mayMatchWire(wire('zone7.test')), s.mayMatch('b.zone19.test'), s.mayMatch('zone19.test')]).toEqual([true, false, true, false]);
  });

  test('mayMatchWire lets through, without building anything, only names a rule could match (strictly below a *.suffix)', () => {
    const s = set();
    s.add(parseFaultRule('*.lab.test=drop', NOW));
    s.add(parseFaultRule('exact.other.test=drop', NOW));
    const wire = (n: string) => `${n.split('.').map((l) => String.fromCharCode(l.length) + l).join('')}\x00`;
    expect(s.mayMatchWire(wire('_vlmcs._tcp.lab.test'))).toBe(true);
    expect(s.mayMatchWire(wire('exact.other.test'))).toBe(true);
    expect(s.mayMatchWire(wire('lab.test'))).toBe(false);
    expect(s.mayMatchWire(wire('xlab.test'))).toBe(false);
    expect(s.mayMatchWire(wire('other.test'))).toBe(false);
  });
});

describe('sameAddress (NOTIFY sources, a secondary\'s primary)', () => {
  test('an IPv4-mapped address is the IPv4 one, IPv6 forms compare by value, a name or another address never matches', () => {
    expect(sameAddress('127.0.0.1', '::ffff:127.0.0.1')).toBe(true);
    expect(sameAddress('::1', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(sameAddress('FD00::11', 'fd00::0011')).toBe(true);
    expect(sameAddress('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(sameAddress('dns1', 'dns1')).toBe(false);
    expect(sameAddress('::ffff:127.0.0.1', '::1')).toBe(false);
  });
});
