import { describe, expect, test } from 'vitest';
import { parseDuration, parseScenario } from './load-scenario.js';

describe('scenario files', () => {
  test('durations: minutes, hours, days, weeks', () => {
    expect([parseDuration('90m'), parseDuration('2h'), parseDuration('1.5d'), parseDuration('1w'), parseDuration(30)]).toEqual([90, 120, 2160, 10080, 30]);
    expect([parseDuration('2d3h'), parseDuration('3h30m'), parseDuration('-5h', true), parseDuration('+1d', true)]).toEqual([3060, 210, -300, 1440]);
    expect(parseDuration('soon')).toBeNull();
    expect(parseDuration('-5h')).toBeNull(); // only clock jumps go backwards
    expect(parseDuration('5x')).toBeNull();
  });

  test('a YAML syntax error names its line', () => {
    expect(() => parseScenario('name: x\nhosts: [\n', 'x.yaml')).toThrow(/x\.yaml line \d+:/);
  });

  test('events must name a known host; expectations need something to check', () => {
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: host-down\n    host: b\n', 'x.yaml')).toThrow(/x\.yaml line 7: events\.0\.host: must name a host \(a\)/);
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nexpect:\n  - at: 1d\n', 'x.yaml')).toThrow(/line 5: expect\.0: needs count/);
  });

  test('Redis events need the Redis store; clock jumps need a target and a signed duration', () => {
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: redis-down\n', 'x.yaml')).toThrow(/line 6: events\.0\.do: redis-down needs store: redis/);
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: clock-jump\n    by: 5h\n', 'x.yaml')).toThrow(/line 5: events\.0: clock-jump needs host .* or clients/);
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: clock-jump\n    host: a\n    by: soon\n', 'x.yaml')).toThrow(/line 8: events\.0\.by: "soon" is not a jump/);
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: clock-jump\n    clients: nobody\n    by: 5h\n', 'x.yaml')).toThrow(/line 7: events\.0\.clients: must name a client group/);
    const ok = parseScenario('name: x\nstore: redis\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: clock-jump\n    host: a\n    by: -2h\n  - at: 2d\n    do: redis-down\n', 'x.yaml');
    expect(ok.events).toEqual([{ at: 1440, do: 'clock-jump', host: 'a', clients: undefined, key: undefined, by: -120 }, { at: 2880, do: 'redis-down', host: undefined, clients: undefined, key: undefined }]);
  });

  test('srv-remove needs a dns section', () => {
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: srv-remove\n', 'x.yaml')).toThrow(/line 6: events\.0\.do: srv-remove needs a dns: section/);
  });

  test('dns: secure, aging, scavengePeriod and secondaries are checked where they stand; so are a client group\'s server and dns-grant events', () => {
    const base = 'name: x\nhosts:\n  - name: a\n  - name: b\n';
    const dns = (extra: string) => `${base}dns:\n  zone: lab.test\n${extra}`;
    expect(() => parseScenario(dns('  aging: 7d\n'), 'x.yaml')).toThrow(/line 7: dns\.aging: "7d" is not NOREFRESH\/REFRESH such as 7d\/7d/);
    expect(() => parseScenario(dns('  scavengePeriod: 7d\n'), 'x.yaml')).toThrow(/line 7: dns\.scavengePeriod: needs aging/);
    expect(() => parseScenario(dns('  aging: 7d/7d\n  scavengePeriod: 0m\n'), 'x.yaml')).toThrow(/line 8: dns\.scavengePeriod: "0m" is not a duration from 1m to 3650d/);
    expect(() => parseScenario(dns('  secure: yes please\n'), 'x.yaml')).toThrow(/line 7: dns\.secure: must be true or false/);
    expect(() => parseScenario(dns('  secondaries: 1\nclients:\n  - name: pc\n    product: windows-10-pro\n    server: 2\n'), 'x.yaml')).toThrow(/line 11: clients\.0\.server: must be 0 \(the lab DNS\) or a secondary from 1 to dns\.secondaries \(1\)/);
    const grant = (extra: string) => `events:\n  - at: 1d\n    do: dns-grant\n    group: kms-hosts\n${extra}`;
    expect(() => parseScenario(dns(grant('    hosts: [a, b]\n    name: _vlmcs._tcp.lab.test\n')), 'x.yaml')).toThrow(/line 9: events\.0\.do: dns-grant needs a secure zone/);
    expect(() => parseScenario(dns(`  secure: true\n${grant('    hosts: [a, c]\n    name: _vlmcs._tcp.lab.test\n')}`), 'x.yaml')).toThrow(/line 12: events\.0\.hosts\.1: must name a host \(a, b\)/);
    expect(() => parseScenario(dns(`  secure: true\n${grant('    hosts: [a, b]\n    name: _vlmcs._tcp.lab.test\n').replace('group: kms-hosts', 'group: kms hosts')}`), 'x.yaml')).toThrow(/line 11: events\.0\.group: The group name "kms hosts" must be 1 to 63 letters, digits/);
    expect(() => parseScenario(dns(`  secure: true\n${grant('    hosts: [a, b]\n    name: _vlmcs._tcp.other.test\n')}`), 'x.yaml')).toThrow(/line 13: events\.0\.name: _vlmcs\._tcp\.other\.test is not in the zone lab\.test/);
    const ok = parseScenario(dns(`  secure: true\n  aging: 7d/7d\n  scavengePeriod: 1d\n  secondaries: 1\nclients:\n  - name: pc\n    product: windows-10-pro\n    server: 1\n${grant('    hosts: [a, b]\n    name: _vlmcs._tcp.lab.test\n')}`), 'x.yaml');
    expect(ok.dns).toEqual({ zone: 'lab.test', secure: true, aging: { intervals: '7d/7d', scavengePeriod: '1d' }, secondaries: 1 });
    expect(ok.clients[0]).toMatchObject({ server: 1, discovery: 'dns' });
    expect(ok.events[0]).toMatchObject({ do: 'dns-grant', group: 'kms-hosts', hosts: ['a', 'b'], name: '_vlmcs._tcp.lab.test' });
  });
});
