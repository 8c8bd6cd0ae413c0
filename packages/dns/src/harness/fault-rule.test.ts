import { describe, expect, test } from 'vitest';
import { seededRandom } from '@kmslab/core';
import { TYPE } from '@kmslab/dns-wire';
import { parseFaultRule, ruleText, toFaultRule } from './fault-rule.js';
import { FaultSet, type FaultQuery } from './fault-set.js';

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
      ['x.test=servfail,every=0', /every "0" must be a whole number of at least 1/],
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
