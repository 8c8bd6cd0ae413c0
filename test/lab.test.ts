import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from './support/cli.js';
import { expectWalkthroughTimeline } from './support/walkthrough.js';

/** A scenario file of these lines in a fresh temporary folder; returns its path. */
function writeScenario(fileName: string, lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kmslab-scn-')), fileName);
  writeFileSync(file, [...lines, ''].join('\n'));
  return file;
}

describe('kmslab lab', () => {
  test('reference-walkthrough runs the real host and client code on the virtual clock and passes its checks', async () => {
    const r = await runCli(['lab', 'run', 'reference-walkthrough', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { passed: boolean; checks: Array<{ name: string; passed: boolean }>; timeline: Array<{ minute: number; client: string; count: number; licensed: boolean }> };
    expect(result.passed).toBe(true);
    expect(result.checks.every((c) => c.passed)).toBe(true);
    expectWalkthroughTimeline(result.timeline);
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

  test.each(['count-decay', 'small-office-mak', 'two-hosts-failover', 'redis-outage', 'current-fleet', 'second-host-cannot-publish', 'retired-host', 'branch-secondary'])('the built-in %s scenario passes its checks', async (name) => {
    const r = await runCli(['lab', 'run', name, '--json']);
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    const result = JSON.parse(r.stdout) as { passed: boolean; checks: Array<{ passed: boolean }> };
    expect(result.checks.length).toBeGreaterThanOrEqual(3);
    expect(result.checks.every((c) => c.passed)).toBe(true);
  });

  test('the Windows events of a run: clients log 12288 (0xC004F074 while their host is down) and 12289, hosts 12290; counted in --json, the narration and the report, each in --events FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-lab-events-'));
    const report = join(dir, 'failover.html');
    const file = join(dir, 'failover-events.jsonl');
    const r = await runCli(['lab', 'run', 'two-hosts-failover', '--json', '--report', report, '--events', file]);
    expect(r.code, r.stderr).toBe(0);
    const kmsEvents = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; hresult?: string; source: string; time: string });
    // --json counts them (summary.windowsEvents); the file holds each.
    const { summary } = JSON.parse(r.stdout) as { summary: { windowsEvents: Record<string, number> } };
    expect(summary.windowsEvents['12290 0xC004F038']).toBe(kmsEvents.filter((e) => e.id === 12290).length);
    const count = (id: number, hresult?: string) => kmsEvents.filter((e) => e.id === id && (hresult === undefined || e.hresult === hresult)).length;
    // Every request a host answered is one 12288 sent, one 12289 processed, one 12290 served.
    expect(count(12288, '0x0')).toBeGreaterThan(20);
    expect(count(12289)).toBe(count(12288, '0x0'));
    expect(count(12290)).toBe(count(12288, '0x0'));
    // kms-a down for a day: the clients that cached it logged the failed attempts before failing over.
    expect(count(12288, '0xC004F074')).toBeGreaterThan(0);
    expect(kmsEvents.filter((e) => e.id === 12290).map((e) => e.source).sort()).toContain('kms-b');
    expect(kmsEvents[0]!.time).toBe('2026-01-05T08:01:00.000Z'); // lab time: the first client joins at minute 1
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/<table id="windows-events">.*<tr data-event="12288"><td>12288<\/td><td>0xC004F074<\/td><td>\d+<\/td><\/tr>/s);
    expect((await runCli(['lab', 'run', 'two-hosts-failover'])).stdout).toMatch(/^ {2}Windows events: 12288 0x0 ×\d+, 12288 0xC004F074 ×\d+, 12289 0xC004F038 ×\d+, 12290 0xC004F038 ×\d+$/m);
  });

  test('second-host-cannot-publish and retired-host narrate the DNS side: the refusals (12293) and the grant, the scavenging pass, the seconds a stale record costs; both reports hold them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-lab-dns-'));
    const second = await runCli(['lab', 'run', 'second-host-cannot-publish', '--report', join(dir, 'second.html')]);
    expect(second.code, second.stdout.slice(-1500)).toBe(0);
    expect(second.stdout).toMatch(/^ {2}Windows events: .*12293 0x8007232D ×\d+, 12294 0x0 ×\d+$/m);
    const secondHtml = readFileSync(join(dir, 'second.html'), 'utf8');
    expect(secondHtml).toContain('granted kms-hosts (kms1, kms2) on _vlmcs._tcp.lab.test');
    expect(secondHtml).toContain('kms2 cannot publish in DNS');
    expect(secondHtml).toMatch(/<tr data-event="12293"><td>12293<\/td><td>0x8007232D<\/td>/);
    const retired = await runCli(['lab', 'run', 'retired-host', '--report', join(dir, 'retired.html')]);
    expect(retired.code, retired.stdout.slice(-1500)).toBe(0);
    expect(retired.stdout).toMatch(/via kms2\.lab\.test:\d+ {2}\(took 2\.0 s\)$/m);
    expect(readFileSync(join(dir, 'retired.html'), 'utf8')).toMatch(/scavenged: _vlmcs\._tcp\.lab\.test 0 0 \d+ kms1\.lab\.test\./);
    // A branch DNS server that learns changes at its hourly SOA refresh: its clients fail (0xC004F074) until it took kms2 in.
    const branch = await runCli(['lab', 'run', 'branch-secondary', '--report', join(dir, 'branch.html')]);
    expect(branch.code, branch.stdout.slice(-1500)).toBe(0);
    expect(branch.stdout).toMatch(/branch-\d+ +windows-11-pro +count +- \/ 25 +not licensed \(0xC004F074: KMSLAB_CONNECTION_FAILED\) +\(took 2\.0 s\)$/m);
    expect(readFileSync(join(dir, 'branch.html'), 'utf8')).toMatch(/secondary 1 took in serial \d+ \(it had \d+\) at its SOA refresh/);
  });

  test('a scenario file (YAML) runs: the shipped branch-offices example passes its expectations', async () => {
    const r = await runCli(['lab', 'run', 'packages/lab/scenarios/branch-offices.yaml', '--json']);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const result = JSON.parse(r.stdout) as { scenario: string; checks: Array<{ name: string; passed: boolean }> };
    expect(result.scenario).toBe('branch-offices');
    expect(result.checks).toHaveLength(7); // six expectations and "no acknowledged activation lost"
    expect(result.checks.at(-1)!.name).toMatch(/no acknowledged activation lost/);
  });

  test('a scenario file asks for a secure zone with a grant, aging and a branch secondary: the enterprise-dns example passes, its report shows each step; --live refuses it in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-ent-'));
    const report = join(dir, 'enterprise.html');
    const r = await runCli(['lab', 'run', 'packages/lab/scenarios/enterprise-dns.yaml', '--json', '--report', report], { timeoutMs: 60_000 });
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const result = JSON.parse(r.stdout) as { checks: Array<{ name: string; passed: boolean }>; summary: { windowsEvents: Record<string, number> }; timeline: Array<{ client: string; host: string | null; errorCode: string | null; minute: number }> };
    expect(result.checks.map((c) => c.name)).toEqual([
      'day 2 00:00: kms2 count for windows is 0', 'day 4 00:00: 45 of all clients licensed', 'day 30 00:00: kms2 count for windows is 50', 'day 30 00:00: 50 of all clients licensed',
      expect.stringMatching(/no acknowledged activation lost/),
    ]);
    // kms2 is refused (12293, REFUSED) until the grant, then publishes (12294).
    expect(result.summary.windowsEvents['12293 0x8007232D']).toBeGreaterThan(24);
    expect(result.summary.windowsEvents['12294 0x0']).toBeGreaterThan(0);
    // Branch clients are answered through their secondary (no client is left without DNS answers).
    const branch = result.timeline.filter((e) => e.client.startsWith('branch-'));
    expect(branch.length).toBeGreaterThan(0);
    expect(branch.some((e) => e.host?.startsWith('kms1.corp.test'))).toBe(true);
    expect(branch.every((e) => e.errorCode !== '0x8007232B')).toBe(true);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('granted kms-hosts (kms1, kms2) on _vlmcs._tcp.corp.test');
    expect(html).toMatch(/secondary 1 took in serial \d+ \(it had \d+\) at its SOA refresh/);
    expect(html).toMatch(/scavenged: _vlmcs\._tcp\.corp\.test 0 0 \d+ kms1\.corp\.test\. \(last refreshed 1\d days ago\)/);
    const live = await runCli(['lab', 'run', 'packages/lab/scenarios/enterprise-dns.yaml', '--live']);
    expect(live.code).toBe(1);
    expect(live.stderr.trim().split('\n')).toHaveLength(1);
    expect(live.stderr).toMatch(/Secure zones, aging and secondaries run in the in-process lab only \(not --live\)/);
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
    const file = writeScenario('srv.yaml', [
      'name: srv-gone', 'dns:', '  zone: lab.test', 'hosts:', '  - name: a', 'clients:', '  - name: pc', '    count: 5', '    product: windows-server-2016-standard', '    join: 10m',
      'events:', '  - at: 0m', '    do: srv-remove', '  - at: 1d', '    do: srv-restore',
      'expect:', '  - at: 12h', '    licensed: 0', '  - at: 27h', '    licensed: 5',
    ]);
    const r = await runCli(['lab', 'run', file, '--json', '--seed', '3']);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const result = JSON.parse(r.stdout) as { timeline: Array<{ minute: number; errorCode: string | null }> };
    expect(result.timeline.filter((e) => e.minute < 1440).every((e) => e.errorCode === '0x8007232B')).toBe(true);
  });
});

describe('kmslab lab: DNS faults as scenario events', () => {
  test('the SRV name SERVFAILs for 6 hours: clients report 0x8007232A and retry every 2 h, then activate once it clears; timeline and report show the fault', async () => {
    const file = writeScenario('servfail.yaml', [
      'name: srv-servfail', 'dns:', '  zone: lab.test', 'hosts:', '  - name: a', 'clients:', '  - name: pc', '    count: 5', '    product: windows-server-2016-standard', '    join: 10m',
      'events:', '  - at: 0m', '    do: dns-fault', '    rule: _vlmcs._tcp.lab.test/SRV=servfail', '    for: 6h',
      'expect:', '  - at: 5h', '    licensed: 0', '  - at: 9h', '    licensed: 5',
    ]);
    const report = join(dirname(file), 'report.html');
    const r = await runCli(['lab', 'run', file, '--json', '--seed', '3', '--report', report]);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const result = JSON.parse(r.stdout) as { timeline: Array<{ minute: number; errorCode: string | null; count: number | null }> };
    const during = result.timeline.filter((e) => e.minute < 360);
    expect(during.length).toBeGreaterThanOrEqual(15); // 5 clients at 0:10, 2:10, 4:10
    expect(during.every((e) => e.errorCode === '0x8007232A' && e.count === null)).toBe(true);
    // The first retries after it clears reach the host: counted 1 to 5, the fifth licenses them (server threshold 5).
    expect(result.timeline.filter((e) => e.minute >= 360 && e.minute < 375).map((e) => e.count)).toEqual([1, 2, 3, 4, 5]);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('DNS fault on: _vlmcs._tcp.lab.test/SRV=servfail');
    expect(html).toContain('DNS fault off: _vlmcs._tcp.lab.test/SRV=servfail');
  });

  test('a bad dns-fault rule names its line', async () => {
    const file = writeScenario('bad.yaml', ['name: bad', 'dns:', '  zone: lab.test', 'hosts:', '  - name: a', 'events:', '  - at: 1h', '    do: dns-fault', '    rule: x.lab.test=explode']);
    const r = await runCli(['lab', 'run', file]);
    expect(r.stderr).toMatch(/bad\.yaml line 9: events\.0\.rule: Fault rule "x\.lab\.test=explode": action "explode" is not one of/);
  });
});

describe('kmslab lab: Redis and clock events, fleet, progress', () => {
  test('redis-and-clocks.yaml in-process: Redis down/up and client clock jumps (0xC004F06C until fixed)', async () => {
    const r = await runCli(['lab', 'run', 'packages/lab/scenarios/redis-and-clocks.yaml', '--json']);
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    const result = JSON.parse(r.stdout) as { summary: { store: string }; timeline: Array<{ client: string; errorCode: string | null; reason: string | null; minute: number }> };
    expect(result.summary.store).toBe('redis');
    expect(result.timeline.filter((e) => e.reason === 'KMSLAB_HOST_UNAVAILABLE').every((e) => e.minute > 60 && e.minute <= 180)).toBe(true);
    const skewed = result.timeline.filter((e) => e.errorCode === '0xC004F06C');
    expect(skewed.length).toBeGreaterThan(0);
    expect(skewed.every((e) => e.client.startsWith('lab-pc') && e.minute <= 2 * 1440)).toBe(true);
  });

  test('lab fleet prints its checks and summary; bad options are refused', async () => {
    const r = await runCli(['lab', 'fleet', '--clients', '3000', '--days', '90', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { passed: boolean; summary: { clients: number; days: number; unanswered: number } };
    expect(result).toMatchObject({ passed: true, summary: { clients: 3000, days: 90, unanswered: 0 } });
    const bad = await runCli(['lab', 'fleet', '--outage', '63-60']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--outage must be FROM-TO/);
  });

  test('a long run on a terminal shows a progress bar (cli-progress); pipes see none', async () => {
    const { KMSLAB_BIN } = await import('./support/cli.js');
    const { execFileSync } = await import('node:child_process');
    const onTty = execFileSync('script', ['-qec', `${process.execPath} ${KMSLAB_BIN} lab fleet --clients 150000 --days 180`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(onTty).toMatch(/fleet \|[█░]+\| 100% virtual time/);
    const piped = await runCli(['lab', 'fleet', '--clients', '150000']);
    expect(piped.stderr + piped.stdout).not.toMatch(/virtual time \|/);
  });
});
