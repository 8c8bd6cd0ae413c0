import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { startLab, labEnvironment, type Lab } from '@kmslab/testing';
import { TYPE, query } from '@kmslab/dns-wire';
import { parseFaultRule } from '@kmslab/dns';
import { waitFor } from '@kmslab/core';
import { dig } from './support/dns-tools.js';
import { redisForTest } from './support/redis-server.js';
import { runCli } from './support/cli.js';

/** Every port the lab listened on: DNS (UDP and TCP), each host's KMS and admin ports. */
function portsOf(lab: Lab): Array<{ port: number; udp?: boolean }> {
  return [{ port: lab.dns.port }, { port: lab.dns.port, udp: true }, ...lab.hosts.flatMap((h) => [{ port: h.address.port }, { port: Number(new URL(h.adminUrl!).port) }])];
}

/** True when nothing listens there any more: we can bind it ourselves. */
async function free({ port, udp }: { port: number; udp?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    if (udp) {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
      return;
    }
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('@kmslab/testing: a lab inside the test process', () => {
  test('two hosts publish themselves: dig finds both SRV records by priority; a client finds kms1, the count is /status; with kms1 stopped it fails over to kms2', async () => {
    await using lab = await startLab({ zone: 'lab.test', hosts: [{ name: 'kms1', priority: 0 }, { name: 'kms2', priority: 10 }] });
    const srv = await dig('dig', lab.dns.host, lab.dns.port, ['_vlmcs._tcp.lab.test', 'SRV', '+short']);
    expect(srv.raw.trim().split('\n').sort()).toEqual([`0 0 ${lab.hosts[0]!.address.port} kms1.lab.test.`, `10 0 ${lab.hosts[1]!.address.port} kms2.lab.test.`]);
    const first = await lab.activate({ product: 'windows-server-2016-standard' });
    expect(first).toMatchObject({ licensed: false, count: 1, errorCode: '0xC004F038', host: `kms1.lab.test:${lab.hosts[0]!.address.port}`, discoveredBy: 'dns' });
    expect((await lab.hosts[0]!.status()).families.windows!.currentCount).toBe(1);
    await lab.hosts[0]!.stop();
    const moved = await lab.activate({ product: 'windows-server-2016-standard', cmid: first.cmid });
    expect(moved).toMatchObject({ count: 1, host: `kms2.lab.test:${lab.hosts[1]!.address.port}` });
    await lab.hosts[0]!.start();
    expect((await lab.hosts[0]!.status()).families.windows!.currentCount).toBe(1);
  });

  test('lab.activate resolves to the object kmslab client activate --json prints, field for field', async () => {
    await using lab = await startLab();
    const fixture = await lab.activate({ product: 'windows-10-pro' });
    const cli = JSON.parse((await runCli(['client', 'activate', '--product', 'windows-10-pro', '--dns', `${lab.dns.host}:${lab.dns.port}`, '--domain', lab.zone, '--state-dir', `${tmpdir()}/kmslab-fixture-${process.pid}`, '--json'])).stdout) as Record<string, unknown>;
    expect(Object.keys(fixture).sort()).toEqual(Object.keys(cli).sort());
    expect(cli).toMatchObject({ count: 2, discoveredBy: 'dns', errorCode: '0xC004F038' });
  });

  test('on the virtual clock: a renewal after 7 days keeps the count; 31 days of silence and the client is no longer counted', async () => {
    await using lab = await startLab();
    const machines = [];
    for (let i = 0; i < 5; i++) machines.push(await lab.activate({ product: 'windows-server-2016-standard' }));
    expect(machines.at(-1)).toMatchObject({ licensed: true, count: 5 });
    lab.clock.advance('7d');
    expect(await lab.activate({ product: 'windows-server-2016-standard', cmid: machines[0]!.cmid, renew: true })).toMatchObject({ licensed: true, count: 5 });
    lab.clock.advance('31d');
    // Only the machine that asks now is in the 30-day window.
    expect(await lab.activate({ product: 'windows-server-2016-standard', cmid: machines[1]!.cmid, renew: true })).toMatchObject({ licensed: false, count: 1 });
    expect(() => lab.clock.advance('-1d')).toThrow(/forward/);
  });

  test('the DNS harness is there: a SERVFAIL fault makes discovery fail with 0x8007232A and the query log shows the query', async () => {
    await using lab = await startLab();
    lab.dnsServer.faults.add((await import('@kmslab/dns')).parseFaultRule('_vlmcs._tcp.lab.test/SRV=servfail', Date.now()));
    expect(await lab.activate({ product: 'windows-10-pro' })).toMatchObject({ licensed: false, errorCode: '0x8007232A' });
    expect(lab.dnsServer.queryLog!.find({ name: '_vlmcs._tcp.lab.test' }).at(-1)).toMatchObject({ rcode: 'SERVFAIL', fault: { action: 'servfail' } });
  });

  test('stop() with a delayed answer pending cancels it: no send on a closed socket later, the activation in flight ends with its DNS timeout', async () => {
    const lab = await startLab();
    lab.dnsServer.faults.add((await import('@kmslab/dns')).parseFaultRule('_vlmcs._tcp.lab.test/SRV=delay:300', Date.now()));
    const inFlight = lab.activate({ product: 'windows-10-pro' });
    await expect.poll(() => lab.dnsServer.delayedAnswers).toBe(1);
    await lab.stop();
    expect(lab.dnsServer.delayedAnswers).toBe(0);
    // It outlives the 300 ms delay (its lookup times out after 2 s): an uncaught ERR_SOCKET_DGRAM_NOT_RUNNING would fail the run.
    expect(await inFlight).toMatchObject({ licensed: false, errorCode: '0x800705B4' });
  });

  test('startLab({ worker: true }): the same lab in a thread of its own keeps answering while the test thread blocks in spawnSync (dig, as a program under test would); faults, query log, clock, hosts and stop work the same', async () => {
    const digSync = (port: number) => spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+tries=1', '+time=2', '_vlmcs._tcp.lab.test', 'SRV'], { encoding: 'utf8' }).stdout.trim();
    await using lab = await startLab({ worker: true, hosts: [{ name: 'kms1' }, { name: 'kms2', priority: 10 }] });
    expect(digSync(lab.dns.port).split('\n').sort()).toEqual([`0 0 ${lab.hosts[0]!.address.port} kms1.lab.test.`, `10 0 ${lab.hosts[1]!.address.port} kms2.lab.test.`]);
    expect(await lab.activate({ product: 'windows-10-pro' })).toMatchObject({ count: 1, host: `kms1.lab.test:${lab.hosts[0]!.address.port}` });
    const fault = lab.dnsServer.faults.add((await import('@kmslab/dns')).parseFaultRule('_vlmcs._tcp.lab.test/SRV=servfail', Date.now()));
    expect([fault.id, lab.dnsServer.faults.size]).toEqual(['1', 1]);
    expect(digSync(lab.dns.port)).toBe('');
    expect(lab.dnsServer.queryLog!.find({ name: '_vlmcs._tcp.lab.test' }).at(-1)).toMatchObject({ rcode: 'SERVFAIL', fault: { id: '1' } });
    lab.dnsServer.faults.clear();
    const before = lab.clock.now();
    lab.clock.advance('31d');
    // The worker's hosts see the test's clock move: the first client falls out of the 30-day window.
    expect(await lab.activate({ product: 'windows-10-pro' })).toMatchObject({ count: 1 });
    expect(lab.clock.now() - before).toBe(31 * 86_400_000);
    await lab.hosts[0]!.stop();
    expect(lab.hosts[0]!.running).toBe(false);
    expect(await lab.activate({ product: 'windows-10-pro' })).toMatchObject({ host: `kms2.lab.test:${lab.hosts[1]!.address.port}` });
    await lab.hosts[0]!.start();
    expect((await lab.hosts[0]!.status()).families.windows!.currentCount).toBe(1);
    await lab.stop();
    await expect(lab.activate({ product: 'windows-10-pro' })).rejects.toMatchObject({ code: 'KMSLAB_SHUTTING_DOWN' });
  });

  test('every port is released after dispose, a failing test still disposes, and two labs in one process do not collide', async () => {
    let ports: Array<{ port: number; udp?: boolean }> = [];
    await expect(
      (async () => {
        await using lab = await startLab({ hosts: [{ name: 'kms1' }, { name: 'kms2' }] });
        await using other = await startLab({ hosts: [{ name: 'kms1' }] });
        ports = [...portsOf(lab), ...portsOf(other)];
        expect(new Set(ports.map((p) => `${p.udp ? 'u' : 't'}${p.port}`)).size).toBe(ports.length);
        expect((await lab.activate({ product: 'windows-10-pro' })).count).toBe(1);
        expect((await other.activate({ product: 'windows-10-pro' })).count).toBe(1);
        throw new Error('the test failed');
      })(),
    ).rejects.toThrow('the test failed');
    expect(ports).toHaveLength(6 + 4);
    for (const p of ports) expect(await free(p), `${p.udp ? 'UDP' : 'TCP'} ${p.port}`).toBe(true);
  });

  test('a Redis store: the hosts count in a real redis-server; the environment for a program under test names the DNS, the zone and the hosts', async () => {
    await using redis = await redisForTest();
    await using lab = await startLab({ store: { redisUrl: redis.url }, hosts: [{ name: `kms-fixture-${process.pid}` }] });
    expect(await lab.activate({ product: 'windows-10-pro' })).toMatchObject({ count: 1 });
    expect((await lab.hosts[0]!.status()).store).toMatchObject({ kind: 'redis', healthy: true });
    const env = labEnvironment(lab);
    expect(env).toEqual({ KMSLAB_DNS: `127.0.0.1:${lab.dns.port}`, KMSLAB_DOMAIN: 'lab.test', KMSLAB_HOSTS: `kms-fixture-${process.pid}=127.0.0.1:${lab.hosts[0]!.address.port}`, KMSLAB_ADMIN_URLS: lab.hosts[0]!.adminUrl });
    // A program that is not Node: dig, told only the environment.
    const [server, port] = env.KMSLAB_DNS!.split(':');
    expect((await dig('dig', server!, Number(port), [`_vlmcs._tcp.${env.KMSLAB_DOMAIN}`, 'SRV', '+short'])).raw).toMatch(new RegExp(`0 0 ${lab.hosts[0]!.address.port} kms-fixture`));
  });

  test.each([false, true])('secure: true (worker: %s): kms2 cannot publish beside kms1 until lab.grantDns grants the group on the SRV name', async (worker) => {
    await using lab = await startLab({ secure: true, worker, hosts: [{ name: 'kms1' }, { name: 'kms2', priority: 10 }] });
    const targets = async () => (await query(lab.dns, `_vlmcs._tcp.${lab.zone}`, TYPE.SRV)).answer.answers.map((r) => (r.data as { target: string }).target).sort();
    expect(await targets()).toEqual(['kms1.lab.test']);
    expect((await lab.activate({ product: 'windows-11-pro' })).host).toMatch(/^kms1\.lab\.test:/);
    lab.grantDns('kms-hosts', ['kms1', 'kms2'], '_vlmcs._tcp.lab.test');
    // kms2 keeps retrying its publishing (backing off to a minute): restarted, it publishes at once.
    await lab.hosts[1]!.stop();
    await lab.hosts[1]!.start();
    await waitFor(async () => (await targets()).length === 2, { timeoutMs: 10_000, everyMs: 50, timedOut: () => new Error('kms2 never published after the grant') });
    expect(await targets()).toEqual(['kms1.lab.test', 'kms2.lab.test']);
  });

  test.each([false, true])('aging: true (worker: %s): a host stopped without deregistering keeps its records until they are older than no-refresh + refresh on the lab clock; lab.scavenge() then removes them, running hosts refresh first and stay', async (worker) => {
    await using lab = await startLab({ aging: true, worker, hosts: [{ name: 'kms1', priority: 10 }, { name: 'kms2' }] });
    const targets = async () => (await query(lab.dns, `_vlmcs._tcp.${lab.zone}`, TYPE.SRV)).answer.answers.map((r) => (r.data as { target: string }).target).sort();
    const t0 = lab.clock.now();
    // kms2 (priority 0, asked first) retired without deregistering: its SRV record stays, clients lose ~2 s on it each.
    await lab.hosts[1]!.stop();
    lab.clock.advance('10d');
    expect(await lab.scavenge()).toEqual([]);
    lab.clock.advance('5d');
    const would = await lab.scavenge({ dryRun: true });
    expect(would.map((r) => [r.name, r.type, r.data]).sort()).toEqual([['_vlmcs._tcp.lab.test', 'SRV', expect.stringMatching(/^0 0 \d+ kms2\.lab\.test\.$/)], ['kms2.lab.test', 'A', '127.0.0.1']]);
    expect(would.every((r) => r.refreshedAt === t0)).toBe(true);
    expect(await targets()).toEqual(['kms1.lab.test', 'kms2.lab.test']);
    expect((await lab.scavenge()).length).toBe(2);
    expect(await targets()).toEqual(['kms1.lab.test']);
    expect((await lab.activate({ product: 'windows-11-pro' })).host).toMatch(/^kms1\.lab\.test:/);
    await using plain = await startLab({ worker });
    await expect(plain.scavenge()).rejects.toMatchObject({ code: 'KMSLAB_INVALID_ARGUMENT', message: expect.stringContaining('startLab({ aging: true })') });
  });

  test.each([false, true])('secondaries: 2 (worker: %s): each secondary answers what the hosts published; with notify-drop on the lab DNS a change stays on the primary only (lab.serials() shows it) until the next one is told', async (worker) => {
    await using lab = await startLab({ secondaries: 2, aging: true, worker, hosts: [{ name: 'kms1' }, { name: 'kms2' }] });
    const targets = async (at: { host: string; port: number }) => (await query(at, `_vlmcs._tcp.${lab.zone}`, TYPE.SRV)).answer.answers.map((r) => (r.data as { target: string }).target).sort();
    const caughtUp = () => waitFor(() => lab.serials().secondaries.every((s) => s === lab.serials().primary), { timeoutMs: 10_000, everyMs: 20, timedOut: () => new Error(`secondaries behind: ${JSON.stringify(lab.serials())}`) });
    expect(lab.secondaries).toHaveLength(2);
    await caughtUp();
    for (const s of lab.secondaries) expect(await targets(s)).toEqual(['kms1.lab.test', 'kms2.lab.test']);
    // A change the secondaries are not told of: kms2's records scavenged with NOTIFY dropped.
    const drop = lab.dnsServer.faults.add(parseFaultRule('lab.test=notify-drop', Date.now()));
    await lab.hosts[1]!.stop();
    lab.clock.advance('15d');
    expect((await lab.scavenge()).length).toBe(2);
    const behind = lab.serials();
    expect(behind.secondaries.every((s) => s !== null && s < behind.primary)).toBe(true);
    expect(await targets(lab.dns)).toEqual(['kms1.lab.test']);
    for (const s of lab.secondaries) expect(await targets(s)).toEqual(['kms1.lab.test', 'kms2.lab.test']);
    // The next change is told: kms2 back, every server has it.
    lab.dnsServer.faults.remove(drop.id);
    await lab.hosts[1]!.start();
    await caughtUp();
    for (const s of [lab.dns, ...lab.secondaries]) expect(await targets(s)).toEqual(['kms1.lab.test', 'kms2.lab.test']);
  });
});
