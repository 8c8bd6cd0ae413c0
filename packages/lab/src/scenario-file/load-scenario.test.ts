import { describe, expect, test } from 'vitest';
import { parseDuration, parseScenario } from './load-scenario.js';

describe('scenario files', () => {
  test('durations: minutes, hours, days, weeks', () => {
    expect([parseDuration('90m'), parseDuration('2h'), parseDuration('1.5d'), parseDuration('1w'), parseDuration(30)]).toEqual([90, 120, 2160, 10080, 30]);
    expect(parseDuration('soon')).toBeNull();
  });

  test('a YAML syntax error names its line', () => {
    expect(() => parseScenario('name: x\nhosts: [\n', 'x.yaml')).toThrow(/x\.yaml line \d+:/);
  });

  test('events must name a known host; expectations need something to check', () => {
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: host-down\n    host: b\n', 'x.yaml')).toThrow(/x\.yaml line 7: events\.0\.host: must name a host \(a\)/);
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nexpect:\n  - at: 1d\n', 'x.yaml')).toThrow(/line 5: expect\.0: needs count/);
  });

  test('srv-remove needs a dns section', () => {
    expect(() => parseScenario('name: x\nhosts:\n  - name: a\nevents:\n  - at: 1d\n    do: srv-remove\n', 'x.yaml')).toThrow(/line 6: events\.0\.do: srv-remove needs a dns: section/);
  });
});
