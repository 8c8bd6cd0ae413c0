import { describe, expect, test } from 'vitest';
import type { HostStatus } from '@kmslab/host';
import { startHost, TestClient } from './support/kms-host.js';

describe('admin listener', () => {
  test('/status reports per-family statistics, key group, packs and this replica', async () => {
    await using h = await startHost({ kind: 'memory' }, { hostId: 'adm', keyGroup: 'windows-server-2012-r2', licensePacks: ['office-2010'] });
    await using c = await TestClient.connect(h.port);
    await c.activate('windows-8.1-pro');
    await c.activate('office-2010-standard');
    const res = await fetch(`${h.adminUrl}/status`);
    expect(res.headers.get('content-type')).toBe('application/json');
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
    await using lab = await startCliHost(['--lab-clock', new Date(start).toISOString(), '--data-dir', `/tmp/kmslab-labclock-${process.pid}`]);
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

    await using plain = await startCliHost(['--data-dir', `/tmp/kmslab-plainclock-${process.pid}`]);
    expect((await fetch(`${plain.adminUrl}/lab/clock`, { method: 'PUT', body: '{"now":1}' })).status).toBe(405);
  });
});
