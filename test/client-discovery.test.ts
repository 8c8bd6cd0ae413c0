import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from './support/dns-tools.js';
import { redisForTest } from './support/redis-server.js';
import { KMSLAB_BIN, runCli, startCliProcess } from './support/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'kmslab-cl-'));

interface Result {
  licensed: boolean;
  count: number | null;
  errorCode: string | null;
  host: string | null;
  discoveredBy: string | null;
  tried: Array<{ host: string; error: string }>;
}

describe('client discovery end to end (DNS → client → host)', () => {
  test('priority order, host caching, failover, manual host, and 0x8007232B when the records go', async () => {
    await using redis = await redisForTest();
    const admin = randomBytes(32).toString('base64');
    const s1 = randomBytes(32).toString('base64');
    const s2 = randomBytes(32).toString('base64');
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', tmp(), '--tsig-key', `admin:hmac-sha256:${admin}`, '--tsig-key', `kms1:hmac-sha256:${s1}:host=kms1.lab.test`, '--tsig-key', `kms2:hmac-sha256:${s2}:host=kms2.lab.test`]);
    // The hosts keep their counts in Redis, as a lab with a shared store would.
    const hostArgs = (key: string, fqdn: string, domain: string) => ['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--store', 'redis', '--redis-url', redis.url, '--host-id', `${fqdn}-${process.pid}-${Date.now()}`, '--publish', '--dns', `127.0.0.1:${dns.port}`, '--tsig-key', key, '--fqdn', fqdn, '--advertise-address', '127.0.0.1', '--publish-domain', domain];
    await using h1 = await startCliProcess(hostArgs(`kms1:hmac-sha256:${s1}`, 'kms1.lab.test', 'lab.test,0,0'));
    await using h2 = await startCliProcess(hostArgs(`kms2:hmac-sha256:${s2}`, 'kms2.lab.test', 'lab.test,10,0'));
    const stateDir = tmp();
    const activate = async (...extra: string[]) => {
      const r = await runCli(['client', 'activate', '--product', 'windows-server-2016-standard', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--state-dir', stateDir, '--json', ...extra]);
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as Result;
    };

    // Priority 0 first (RFC 2782), found by DNS; then the cached host is used.
    expect(await activate()).toMatchObject({ host: `kms1.lab.test:${h1.port}`, discoveredBy: 'dns', count: 1, errorCode: '0xC004F038' });
    expect(await activate()).toMatchObject({ host: `kms1.lab.test:${h1.port}`, discoveredBy: 'cache', count: 1 });

    // The priority-0 host dies without deregistering: cache fails, DNS again, failover to priority 10.
    h1.proc.kill('SIGKILL');
    await h1.exited;
    const failover = await activate();
    expect(failover).toMatchObject({ host: `kms2.lab.test:${h2.port}`, discoveredBy: 'dns', count: 1 });
    expect(failover.tried.map((t) => t.host)).toEqual([`127.0.0.1:${h1.port}`, `127.0.0.1:${h1.port}`]);

    // A manual host always wins (slmgr /skms), and clearing it goes back to discovery.
    expect((await runCli(['client', 'set-host', `127.0.0.1:${h2.port}`, '--state-dir', stateDir])).code).toBe(0);
    expect(await activate('--dns', '127.0.0.1:1')).toMatchObject({ discoveredBy: 'manual', host: `127.0.0.1:${h2.port}` });
    expect((await runCli(['client', 'clear-host', '--state-dir', stateDir])).code).toBe(0);

    // The priority-0 host comes back (on a new port; it replaces its own stale record): a new client uses it again.
    await using h1again = await startCliProcess(hostArgs(`kms1:hmac-sha256:${s1}`, 'kms1.lab.test', 'lab.test,0,0'));
    const fresh = await runCli(['client', 'activate', '--product', 'windows-10-pro', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--state-dir', tmp(), '--json']);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ host: `kms1.lab.test:${h1again.port}`, discoveredBy: 'dns' });

    // No _vlmcs._tcp records left: 0x8007232B.
    const del = await run('nsupdate', ['-y', `hmac-sha256:admin:${admin}`], `server 127.0.0.1 ${dns.port}\nzone lab.test\nupdate delete _vlmcs._tcp.lab.test SRV\nsend\n`);
    expect(del.code, del.stderr).toBe(0);
    expect((await runCli(['client', 'host-caching', 'off', '--state-dir', stateDir])).code).toBe(0);
    const none = await activate();
    expect(none).toMatchObject({ licensed: false, errorCode: '0x8007232B', host: null });

    const status = await runCli(['client', 'status', '--state-dir', stateDir]);
    expect(status.stdout).toMatch(/Client Machine ID \(CMID\): [0-9a-f-]{36}/);
    expect(status.stdout).toContain('KMS host caching: disabled');
  }, 180_000);

  test('a manual host that does not answer: 0xC004F074 listing what was tried', async () => {
    const stateDir = tmp();
    await runCli(['client', 'set-host', '127.0.0.1:1', '--state-dir', stateDir]);
    const r = await runCli(['client', 'activate', '--product', 'windows-10-pro', '--state-dir', stateDir, '--json']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as Result;
    expect(out).toMatchObject({ licensed: false, errorCode: '0xC004F074', discoveredBy: null });
    expect(out.tried).toEqual([expect.objectContaining({ host: '127.0.0.1:1', discoveredBy: 'manual' })]);
  });

  test('client run contacts the host at once, then waits the activation interval; it stops on SIGTERM', async () => {
    await using host = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', 'off', '--data-dir', tmp()]);
    const stateDir = tmp();
    await runCli(['client', 'set-host', `127.0.0.1:${host.port}`, '--state-dir', stateDir]);
    const proc = spawn(process.execPath, [KMSLAB_BIN, 'client', 'run', '--product', 'windows-10-pro', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => proc.once('exit', r));
    const first = await new Promise<string>((resolve) => proc.stdout!.once('data', (d: Buffer) => resolve(d.toString().split('\n')[0]!)));
    const line = JSON.parse(first) as { count: number; status: string; nextContact: string; discoveredBy: string };
    expect(line).toMatchObject({ count: 1, status: 'initial-grace', discoveredBy: 'manual' });
    const inMinutes = (Date.parse(line.nextContact) - Date.now()) / 60_000;
    expect(inMinutes).toBeGreaterThan(119);
    expect(inMinutes).toBeLessThanOrEqual(120);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('RFC 2782 weights 3:1 at one priority: over 2,000 discoveries the first choice splits 3:1 (within 4 standard deviations)', async () => {
    const { discoverHosts, seededRandom } = await import('@kmslab/client');
    const { DnsServer, ZoneSet, defaultZone } = await import('@kmslab/dns');
    const { TYPE, CLASS } = await import('@kmslab/dns-wire');
    const zones = new ZoneSet();
    const zone = defaultZone('lab.test');
    for (const [target, weight] of [['heavy', 3], ['light', 1]] as const) {
      zone.add({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 60, data: { type: 'SRV', priority: 0, weight, port: 1688, target: `${target}.lab.test` } });
      zone.add({ name: `${target}.lab.test`, type: TYPE.A, class: CLASS.IN, ttl: 60, data: { type: 'A', address: '127.0.0.1' } });
    }
    zones.add(zone);
    await using dns = await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0 });
    const random = seededRandom(2026);
    const n = 2000;
    let heavy = 0;
    for (let i = 0; i < n; i++) {
      const found = await discoverHosts({ dns: { host: '127.0.0.1', port: dns.port }, domains: ['lab.test'], random });
      if (found.ok && found.candidates[0]!.target === 'heavy.lab.test') heavy++;
    }
    const sd = Math.sqrt((0.75 * 0.25) / n);
    expect(Math.abs(heavy / n - 0.75)).toBeLessThan(4 * sd);
  });
});
