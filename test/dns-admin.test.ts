import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { dig } from './support/dns-tools.js';
import { KMSLAB_BIN, runCli, startCliProcess } from './support/cli.js';

const SRV = '_vlmcs._tcp.lab.test';
const dataDir = () => mkdtempSync(join(tmpdir(), 'kmslab-dns-'));

describe('the DNS admin listener and its CLI (kmslab dns queries, kmslab dns fault)', () => {
  test('queries: the log over HTTP and the CLI, filtered by name and type; --follow prints a query made after it started', async () => {
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', dataDir(), '--admin', '127.0.0.1:0']);
    const admin = String(dns.ready.admin);
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV']);
    await dig('dig', '127.0.0.1', dns.port, ['+tcp', 'ns.lab.test', 'A']);
    const all = (await (await fetch(`${admin}/queries`)).json()) as Array<{ qname: string; qtype: string; transport: string; time: string; rcode: string }>;
    expect(all.map((q) => [q.qname, q.qtype, q.transport])).toEqual([[SRV, 'SRV', 'udp'], ['ns.lab.test', 'A', 'tcp']]);
    expect(Date.parse(all[0]!.time)).toBeGreaterThan(Date.now() - 60_000);
    const cli = JSON.parse((await runCli(['dns', 'queries', '--admin', admin, '--type', 'SRV', '--json'])).stdout) as Array<{ qname: string }>;
    expect(cli.map((q) => q.qname)).toEqual([SRV]);
    expect((await runCli(['dns', 'queries', '--admin', admin, '--name', 'ns.lab.test'])).stdout).toMatch(/ns\.lab\.test A {2}NOERROR 1 ans/);

    const follow = spawn(process.execPath, [KMSLAB_BIN, 'dns', 'queries', '--admin', admin, '--follow', '--name', 'kms9.lab.test'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      follow.stdout.on('data', (d) => (out += d));
      // The CLI has started and subscribed: the server counts it as a follower.
      await expect.poll(async () => (await (await fetch(`${admin}/metrics`)).text()).match(/^kmslab_dns_query_log_followers (\d+)/m)?.[1], { timeout: 10_000 }).toBe('1');
      await dig('dig', '127.0.0.1', dns.port, ['ns.lab.test', 'A']); // filtered out
      await dig('dig', '127.0.0.1', dns.port, ['kms9.lab.test', 'A']);
      await expect.poll(() => out, { timeout: 5000 }).toMatch(/kms9\.lab\.test A {2}NXDOMAIN/);
      expect(out).not.toContain('ns.lab.test');
    } finally {
      follow.kill();
    }
  });

  test('zones: each zone\'s serial and its _vlmcs._tcp SRV records by priority, following a dynamic update', async () => {
    const secret = Buffer.from('zones-route-secret-0123456789abc').toString('base64');
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', dataDir(), '--admin', '127.0.0.1:0', '--zone', 'lab.test', '--zone', 'other.test', '--tsig-key', `k:hmac-sha256:${secret}`]);
    const zones = async () => (await (await fetch(`${String(dns.ready.admin)}/zones`)).json()) as Array<{ origin: string; serial: number; srv: Array<{ priority: number; weight: number; port: number; target: string; ttl: number }> }>;
    const before = await zones();
    expect(before.map((z) => [z.origin, z.srv])).toEqual([['lab.test', []], ['other.test', []]]);
    const { updateZone, TYPE, CLASS } = await import('@kmslab/dns-wire');
    const srv = (priority: number, target: string) => ({ name: SRV, type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV' as const, priority, weight: 5, port: 1688, target } });
    await updateZone({ host: '127.0.0.1', port: dns.port }, 'lab.test', [srv(10, 'kms2.lab.test'), srv(0, 'kms1.lab.test')], { name: 'k', algorithm: 'hmac-sha256', secret: Buffer.from(secret, 'base64') }, Date.now());
    const after = await zones();
    // Each record with when the update refreshed it (aging) and no owner (lab.test is not a secure zone).
    const refreshedAt = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
    expect(after[0]!.srv).toEqual([
      { name: SRV, ttl: 600, priority: 0, weight: 5, port: 1688, target: 'kms1.lab.test', refreshedAt, owner: null },
      { name: SRV, ttl: 600, priority: 10, weight: 5, port: 1688, target: 'kms2.lab.test', refreshedAt, owner: null },
    ]);
    expect(after[0]!.serial).toBeGreaterThan(before[0]!.serial);
  });

  test('faults switched on and off at run time through the CLI: add, list (matched/applied), remove, clear; a bad rule is a 400, a body that is no JSON object a 400, over 16 KiB a 413, each one line', async () => {
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', dataDir(), '--admin', '127.0.0.1:0']);
    const admin = String(dns.ready.admin);
    const added = await runCli(['dns', 'fault', 'add', '--admin', admin, '--name', SRV, '--type', 'SRV', '--action', 'servfail']);
    expect(added.stdout).toBe(`fault 1: ${SRV}/SRV=servfail\n`);
    expect((await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV'])).status).toBe('SERVFAIL');
    expect((await runCli(['dns', 'fault', 'add', '--admin', admin, '--name', '*.lab.test', '--action', 'delay:50', '--count', '1'])).code).toBe(0);
    const list = JSON.parse((await runCli(['dns', 'fault', 'list', '--admin', admin, '--json'])).stdout) as Array<{ id: string; matched: number; applied: number; rule: string }>;
    expect(list).toMatchObject([{ id: '1', matched: 1, applied: 1 }, { id: '2', rule: '*.lab.test=delay:50,count=1', applied: 0 }]);
    expect((await runCli(['dns', 'fault', 'remove', '1', '--admin', admin])).stdout).toBe('fault 1 removed\n');
    expect((await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV'])).status).toBe('NXDOMAIN'); // the default zone holds no SRV records
    expect((await runCli(['dns', 'fault', 'clear', '--admin', admin])).code).toBe(0);
    expect(await (await fetch(`${admin}/faults`)).json()).toEqual([]);
    const bad = await fetch(`${admin}/faults`, { method: 'POST', body: JSON.stringify({ name: SRV, action: 'servfail', every: 0 }) });
    expect(bad.status).toBe(400);
    expect((await bad.text()).trim()).toMatch(/^Fault rule ".*": every "0" must be a whole number from 1 to 2147483648 \(docs\/dns-faults\.md\)$/);
    for (const [body, status] of [['[1]', 400], ['not json', 400], [JSON.stringify({ name: SRV, action: 'servfail', pad: 'x'.repeat(17 * 1024) }), 413]] as const) {
      const refused = await fetch(`${admin}/faults`, { method: 'POST', body });
      expect(refused.status, body.slice(0, 20)).toBe(status);
      expect(await refused.text(), body.slice(0, 20)).toMatch(/^Send one rule as a JSON object of at most 16 KiB: [^\n]*\n$/);
    }
    expect(await (await fetch(`${admin}/faults`)).json()).toEqual([]);
    expect((await fetch(`${admin}/faults/1`)).status).toBe(405);
    const byText = await fetch(`${admin}/faults`, { method: 'POST', body: JSON.stringify({ rule: `${SRV}/SRV=refused,count=1` }) });
    expect(byText.status).toBe(201);
    expect((await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV'])).status).toBe('REFUSED');
    const removeMissing = await runCli(['dns', 'fault', 'remove', '99', '--admin', admin]);
    expect(removeMissing.stderr).toMatch(/^kmslab: No fault 99; GET \/faults lists them \(KMSLAB_INVALID_ARGUMENT\)\n$/);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/^kmslab_dns_queries_total\{type="SRV",rcode="SERVFAIL",transport="udp"\} 1$/m);
    expect(metrics).toMatch(/^kmslab_dns_faults_applied_total\{action="refused"\} 1$/m);
    expect(metrics).toMatch(/^kmslab_dns_latency_seconds_count \d+$/m);
  });

  test('beyond loopback the admin listener needs its token: without it every route is 401 and no fault is added', async () => {
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', dataDir(), '--admin', '0.0.0.0:0']);
    const url = `http://127.0.0.1:${new URL(String(dns.ready.admin)).port}`;
    const token = /Authorization: Bearer (\S+)/.exec(dns.logs())?.[1];
    expect(token).toBeTruthy();
    expect((await fetch(`${url}/queries`)).status).toBe(401);
    expect((await fetch(`${url}/faults`, { method: 'POST', body: JSON.stringify({ name: SRV, action: 'servfail' }) })).status).toBe(401);
    expect((await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV'])).status).toBe('NXDOMAIN'); // the default zone holds no SRV records
    const auth = { authorization: `Bearer ${token}` };
    expect(await (await fetch(`${url}/faults`, { headers: auth })).json()).toEqual([]);
    const cli = await runCli(['dns', 'fault', 'list', '--admin', url, '--admin-token', token!, '--json']);
    expect(JSON.parse(cli.stdout)).toEqual([]);
    for (const line of dns.logs().split('\n').filter((l) => l.startsWith('{'))) expect(line).not.toContain(token);
  });
});
