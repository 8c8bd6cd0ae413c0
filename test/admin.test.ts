import { tmpdir } from 'node:os';
import { describe, expect, test } from 'vitest';
import type { HostStatus } from '@kmslab/host';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCliHost } from './support/cli.js';
import { startHost, tempDir, TestClient } from './support/kms-host.js';

describe('admin listener', () => {
  test('/status reports per-family statistics, key group, packs and this replica', async () => {
    await using h = await startHost({ kind: 'memory' }, { hostId: 'adm', keyGroup: 'windows-server-2012-r2', licensePacks: ['office-2010'] });
    await using c = await TestClient.connect(h.port);
    await c.activate('windows-8.1-pro');
    await c.activate('office-2010-standard');
    const res = await fetch(`${h.adminUrl}/status`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const s = (await res.json()) as HostStatus;
    expect(s).toMatchObject({
      hostId: 'adm',
      keyGroup: { id: 'windows-server-2012-r2' },
      licensePacks: [{ id: 'office-2010' }],
      activationIntervalMin: 120,
      renewalIntervalMin: 10080,
      store: { kind: 'memory', healthy: true },
      replica: { requestsServed: 2 },
    });
    expect(s.families.windows).toMatchObject({ currentCount: 1, totalRequests: 1, failedRequests: 1, requestsByStatus: { 'initial-grace': 1 } });
    expect(s.families.office2010!.currentCount).toBe(1);
    expect(s.families.office2013!.totalRequests).toBe(0);
  });

  test('/metrics is Prometheus text with the count, results and store health', async () => {
    await using h = await startHost({ kind: 'memory' }, { hostId: 'met' });
    await using c = await TestClient.connect(h.port);
    for (let i = 0; i < 5; i++) await c.activate('windows-server-2016-datacenter');
    const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
    expect(text).toContain('kmslab_current_count{family="windows",host_id="met"} 5');
    expect(text).toContain('kmslab_requests_total{family="windows",result="0xC004F038",host_id="met"} 4');
    expect(text).toContain('kmslab_requests_total{family="windows",result="licensed",host_id="met"} 1');
    expect(text).toContain('kmslab_store_up{host_id="met"} 1');
  });

  test('/healthz answers 200 with a healthy store; unknown paths 404', async () => {
    await using h = await startHost({ kind: 'memory' });
    expect((await fetch(`${h.adminUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.adminUrl}/nope`)).status).toBe(404);
  });
});

describe('listening', () => {
  test('the default listen address is dual-stack: one port answers on IPv4 and IPv6', async () => {
    await using h = await startHost({ kind: 'memory' }, { listen: undefined });
    expect(h.addresses.map((a) => a.address)).toEqual(['::']);
    await using v4 = await TestClient.connect(h.port, undefined, '127.0.0.1');
    await using v6 = await TestClient.connect(h.port, undefined, '::1');
    expect((await v4.activate('windows-7-professional')).count).toBe(1);
    expect((await v6.activate('windows-7-professional')).count).toBe(2);
  });

  test('several --listen addresses share the port the first one got', async () => {
    await using h = await startHost({ kind: 'memory' }, { listen: ['127.0.0.1', '::1'] });
    expect(h.addresses).toHaveLength(2);
    expect(new Set(h.addresses.map((a) => a.port)).size).toBe(1);
    await using v6 = await TestClient.connect(h.port, undefined, '::1');
    expect((await v6.activate('windows-7-professional')).count).toBe(1);
  });
});

describe('lab clock (host start --lab-clock, for kmslab lab run --live)', () => {
  test('PUT /lab/clock sets the host time, which the 4-hour check then uses; without --lab-clock there is no such route', async () => {
    const { startCliHost } = await import('./support/cli.js');
    const start = Date.UTC(2026, 0, 5, 8);
    await using lab = await startCliHost(['--lab-clock', new Date(start).toISOString(), '--data-dir', `${tmpdir()}/kmslab-labclock-${process.pid}`]);
    const put = (body: string) => fetch(`${lab.adminUrl}/lab/clock`, { method: 'PUT', body });
    expect(await (await fetch(`${lab.adminUrl}/lab/clock`)).json()).toEqual({ now: start });
    const later = start + 30 * 86_400_000;
    expect(await (await put(JSON.stringify({ now: later }))).json()).toEqual({ now: later });
    expect((await put('{"now":"soon"}')).status).toBe(400);
    // A client on real time is now 30 days off the host: refused (0xC004F06C); one on lab time is counted.
    await using c = await TestClient.connect(lab.port);
    await expect(c.activate('windows-10-enterprise')).rejects.toMatchObject({ code: '0xC004F06C' });
    await using onLabTime = await TestClient.connect(lab.port, { now: () => later });
    await expect(onLabTime.activate('windows-10-enterprise')).resolves.toMatchObject({ count: 1 });

    await using plain = await startCliHost(['--data-dir', `${tmpdir()}/kmslab-plainclock-${process.pid}`]);
    expect((await fetch(`${plain.adminUrl}/lab/clock`, { method: 'PUT', body: '{"now":1}' })).status).toBe(405);
  });
});

test('docs/metrics.md documents every metric /metrics serves, with its type, and nothing more', async () => {
  await using h = await startHost({ kind: 'memory' });
  const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
  const served = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  const docs = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');
  // The host's table: the part of the page before the DNS server's section.
  const documented = [...docs.split('## DNS server')[0]!.matchAll(/^\| `(kmslab_[a-z_]+)` \| (\w+) \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  expect(served.length).toBeGreaterThan(5);
  expect(documented).toEqual(served);
});

describe('admin listener beyond loopback needs a token (DEVELOPERS.md "Secure by default")', () => {
  const labStart = '2026-12-01T00:00:00.000Z';

  test('--admin 0.0.0.0 with --lab-clock: a generated token printed once, never logged; without it every route is 401 and the clock does not move', async () => {
    await using dir = tempDir();
    await using host = await startCliHost(['--admin', '0.0.0.0:0', '--lab-clock', labStart, '--data-dir', join(dir.path, 'data')]);
    const url = `http://127.0.0.1:${new URL(host.adminUrl).port}`;
    const token = /Authorization: Bearer (\S+)/.exec(host.logs())?.[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    for (const [path, init] of [['/status', {}], ['/healthz', {}], ['/metrics', {}], ['/lab/clock', { method: 'PUT', body: JSON.stringify({ now: Date.parse(labStart) + 40 * 86_400_000 }) }]] as const) {
      expect((await fetch(`${url}${path}`, init)).status, path).toBe(401);
      expect((await fetch(`${url}${path}`, { ...init, headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status, path).toBe(401);
    }
    const auth = { authorization: `Bearer ${token}` };
    expect(await (await fetch(`${url}/lab/clock`, { headers: auth })).json()).toEqual({ now: Date.parse(labStart) });
    expect((await fetch(`${url}/status`, { headers: auth })).status).toBe(200);
    // The token appears once (the printed line), in no JSON log line.
    const logs = host.logs();
    expect(logs.split(token!).length - 1).toBe(1);
    for (const line of logs.split('\n').filter((l) => l.startsWith('{'))) expect(line).not.toContain(token);
    // host status needs it too: a one-line error without, the report with it.
    const without = await runCli(['host', 'status', '--admin', url]);
    expect(without.stderr).toMatch(/^kmslab: .* needs its admin token: pass --admin-token TOKEN or set KMSLAB_ADMIN_TOKEN \(KMSLAB_INVALID_ARGUMENT\)\n$/);
    const withToken = await runCli(['host', 'status', '--admin', url, '--admin-token', token!]);
    expect(withToken.stdout).toContain('Key Management Service is enabled');
  });

  test('a clock that is not a finite number or is over 100 years away is a 400, a body over 1 KiB a 413, a POST to /status a 405, each one line; the host keeps answering', async () => {
    await using dir = tempDir();
    await using host = await startCliHost(['--lab-clock', labStart, '--data-dir', join(dir.path, 'data')]);
    for (const body of ['{"now":1e300}', '{"now":"5"}', '{"now":null}', 'not json', JSON.stringify({ now: Date.now() + 101 * 365.25 * 86_400_000 })]) {
      const res = await fetch(`${host.adminUrl}/lab/clock`, { method: 'PUT', body });
      expect(res.status, body).toBe(400);
      expect((await res.text()).trim().split('\n'), body).toHaveLength(1);
    }
    const oversized = await fetch(`${host.adminUrl}/lab/clock`, { method: 'PUT', body: JSON.stringify({ now: Date.now(), pad: 'x'.repeat(2048) }) });
    expect(oversized.status).toBe(413);
    expect(await oversized.text()).toMatch(/^Send \{"now".*at most 1024 bytes\)\n$/);
    const post = await fetch(`${host.adminUrl}/status`, { method: 'POST', body: '{}' });
    expect([post.status, await post.text()]).toEqual([405, 'POST is not served here. Try /status, /clients, /requests, /events, /metrics or /healthz\n']);
    expect(await (await fetch(`${host.adminUrl}/lab/clock`)).json()).toEqual({ now: Date.parse(labStart) });
    expect((await fetch(`${host.adminUrl}/status`)).status).toBe(200);
  });

  test('a chosen token (KMSLAB_ADMIN_TOKEN) is required even on loopback and is not printed', async () => {
    await using dir = tempDir();
    const token = 'chosen-token-0123456789';
    process.env.KMSLAB_ADMIN_TOKEN = token;
    try {
      await using host = await startCliHost(['--data-dir', join(dir.path, 'data')]);
      expect(host.logs()).not.toContain(token);
      expect((await fetch(`${host.adminUrl}/healthz`)).status).toBe(401);
      expect((await fetch(`${host.adminUrl}/healthz`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      // The container HEALTHCHECK reads the same variable.
      expect((await runCli(['healthcheck', '--admin', new URL(host.adminUrl).host])).stdout).toBe('host admin /healthz: 200\n');
    } finally {
      delete process.env.KMSLAB_ADMIN_TOKEN;
    }
    const short = await runCli(['host', 'start', '--admin-token', 'short', '--port', '0', '--admin', '127.0.0.1:0']);
    expect(short.stderr).toMatch(/admin token must be at least 16 characters .*\(KMSLAB_INVALID_ARGUMENT\)/);
  });
});
