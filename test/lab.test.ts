import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from './support/cli.js';

describe('kmslab lab', () => {
  test('reference-walkthrough runs the real host and client code on the virtual clock and passes its checks', async () => {
    const r = await runCli(['lab', 'run', 'reference-walkthrough', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { passed: boolean; checks: Array<{ name: string; passed: boolean }>; timeline: Array<{ minute: number; client: string; count: number; licensed: boolean }> };
    expect(result.passed).toBe(true);
    expect(result.checks.every((c) => c.passed)).toBe(true);
    const at = (client: string, minute: number) => result.timeline.find((e) => e.client === client && e.minute === minute);
    expect(at('win7-02', 1)).toMatchObject({ count: 2, licensed: false });
    expect(at('server-01', 2)).toMatchObject({ count: 3, licensed: false });
    expect(at('win7-12', 12)).toMatchObject({ count: 13, licensed: false });
    expect(at('server-01', 122)).toMatchObject({ count: 13, licensed: true });
    expect(at('win7-01', 120)).toMatchObject({ count: 13, licensed: false });
  });

  test('the narrated form prints the timeline and the checks; list and unknown names behave', async () => {
    const text = await runCli(['lab', 'run', 'reference-walkthrough']);
    expect(text.stdout).toMatch(/00:02 {2}server-01 .* count {2}3 \/ 5 {2}not licensed/);
    expect(text.stdout).toContain('All checks passed.');
    expect((await runCli(['lab', 'list'])).stdout).toContain('reference-walkthrough');
    const bad = await runCli(['lab', 'run', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/No scenario "nope"/);
  });

  test.each(['count-decay', 'small-office-mak', 'two-hosts-failover'])('the built-in %s scenario passes its checks', async (name) => {
    const r = await runCli(['lab', 'run', name, '--json']);
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    const result = JSON.parse(r.stdout) as { passed: boolean; checks: Array<{ passed: boolean }> };
    expect(result.checks.length).toBeGreaterThanOrEqual(3);
    expect(result.checks.every((c) => c.passed)).toBe(true);
  });

  test('a scenario file (YAML) runs: the shipped branch-offices example passes its expectations', async () => {
    const r = await runCli(['lab', 'run', 'packages/lab/scenarios/branch-offices.yaml', '--json']);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const result = JSON.parse(r.stdout) as { scenario: string; checks: Array<{ passed: boolean }> };
    expect(result.scenario).toBe('branch-offices');
    expect(result.checks).toHaveLength(6);
  });

  test('scenario file errors point at the line; a failing expectation exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-scn-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nhosts:\n  - name: a\nclients:\n  - name: pc\n    product: windows-10-pro\n    join: soon\n');
    const r = await runCli(['lab', 'run', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml line 7: clients\.0\.join: "soon" is not a time/);
    const wrong = join(dir, 'wrong.yaml');
    writeFileSync(wrong, 'name: wrong\nhosts:\n  - name: a\nclients:\n  - name: pc\n    count: 3\n    product: windows-10-pro\nexpect:\n  - at: 1h\n    host: a\n    count: 4\n');
    const w = await runCli(['lab', 'run', wrong]);
    expect(w.code).toBe(1);
    expect(w.stdout).toMatch(/✘ 01:00: a count for windows is 4 \(count 3\)/);
  });

  test('SRV records removed: new machines get 0x8007232B and stay unlicensed; restored, they activate at their next retry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-scn-'));
    const file = join(dir, 'srv.yaml');
    writeFileSync(file, [
      'name: srv-gone', 'dns:', '  zone: lab.test', 'hosts:', '  - name: a', 'clients:', '  - name: pc', '    count: 5', '    product: windows-server-2016-standard', '    join: 10m',
      'events:', '  - at: 0m', '    do: srv-remove', '  - at: 1d', '    do: srv-restore',
      'expect:', '  - at: 12h', '    licensed: 0', '  - at: 27h', '    licensed: 5', '',
    ].join('\n'));
    const r = await runCli(['lab', 'run', file, '--json', '--seed', '3']);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const result = JSON.parse(r.stdout) as { timeline: Array<{ minute: number; errorCode: string | null }> };
    expect(result.timeline.filter((e) => e.minute < 1440).every((e) => e.errorCode === '0x8007232B')).toBe(true);
  });
});
