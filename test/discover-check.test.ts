import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activateOnce, checkDns, newClientState, type CheckReport, type FindingId } from '@kmslab/client';
import { parseFaultRule, type DnsServer } from '@kmslab/dns';
import { MemoryStore, startHostService, type HostService } from '@kmslab/host';
import { realClock } from '@kmslab/core';
import { freePort } from '@kmslab/lab/live';
import { runCli } from './support/cli.js';
import { startDns } from './support/dns-server.js';
import { dig } from './support/dns-tools.js';
import { NamedServer } from './support/named.js';
import { startDnsmasq, startKnot, startUnbound } from './support/dns-peers.js';

/**
 * `kmslab discover --check` (docs/discover-check.md): one test per finding,
 * each against a real DNS server on loopback — BIND, Knot, dnsmasq, Unbound
 * in front of kmslab, and kmslab's own DNS with faults and case-sensitive
 * rules — through the CLI as a user or a CI job runs it (JSON, exit code).
 */
const tmp = () => mkdtempSync(join(tmpdir(), 'kmslab-check-'));
const SOA = ['$TTL 600', '@ IN SOA ns hostmaster 1 3600 600 604800 300', '@ IN NS ns', 'ns IN A 127.0.0.1'];
const zone = (...lines: string[]) => ['$ORIGIN lab.test.', ...SOA, ...lines, ''].join('\n');

async function check(...args: string[]): Promise<CheckReport & { code: number }> {
  const r = await runCli(['discover', '--check', '--json', ...args]);
  expect(r.stderr).toBe('');
  return { ...(JSON.parse(r.stdout) as CheckReport), code: r.code };
}
const ids = (r: CheckReport) => r.findings.map((f) => f.id).sort();
/** The findings but the one a live host on a free port (not 1688) always adds. */
const idsOnFreePort = (r: CheckReport) => ids(r).filter((id) => id !== 'port-not-1688');
const one = (r: CheckReport, id: FindingId) => {
  const found = r.findings.filter((f) => f.id === id);
  expect(found, JSON.stringify(r.findings, null, 1)).toHaveLength(1);
  return found[0]!;
};

let host: HostService;
let deadPort: number;
beforeAll(async () => {
  host = await startHostService({ hostId: 'kms-live', store: await MemoryStore.open(), listen: ['127.0.0.1'], port: 0, admin: null });
  deadPort = await freePort();
});
afterAll(async () => {
  await host.close();
});

describe('kmslab discover --check: a verdict on the DNS a Windows client uses', () => {
  test('a healthy setup: no findings, verdict ok, exit 0 (kmslab DNS; no connection tried: 1688 is not ours to take)', async () => {
    await using dns = await startDns(zone('_vlmcs._tcp IN SRV 0 10 1688 kms1', '_vlmcs._tcp IN SRV 10 0 1688 kms2', 'kms1 IN A 127.0.0.1', 'kms2 IN A 127.0.0.1'));
    const r = await check('--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--no-connect');
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ verdict: 'ok', exitCode: 0, code: 0, asked: ['lab.test'] });
    expect(r.answers[0]).toMatchObject({ name: '_VLMCS._TCP.lab.test', answers: [{ rcode: 'NOERROR', records: [{ target: 'kms1.lab.test', port: 1688, ttl: 600 }, { target: 'kms2.lab.test' }] }] });
    const text = await runCli(['discover', '--check', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--no-connect']);
    expect(text.stdout).toContain('Verdict: OK, no findings');
  });

  test('no-domain: nothing to ask, the client sends no query and reports 0x8007007B', async () => {
    await using dns = await startDns(zone());
    const r = await checkDns({ servers: [{ host: '127.0.0.1', port: dns.port }], suffixes: [] });
    expect(r).toMatchObject({ verdict: 'errors', exitCode: 2 });
    expect(one(r, 'no-domain').client).toContain('0x8007007B');
  });

  test('no-srv (BIND): the name does not exist, the client reports 0x8007232B', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'lab.test.db'), zone('kms1 IN A 127.0.0.1'));
    await using bind = await NamedServer.start(`zone "lab.test" { type primary; file "${join(dir, 'lab.test.db')}"; };`);
    const r = await check('--dns', `127.0.0.1:${bind.port}`, '--domain', 'lab.test');
    expect(ids(r)).toEqual(['no-srv']);
    expect(r.code).toBe(2);
    expect(one(r, 'no-srv')).toMatchObject({ severity: 'error', client: expect.stringContaining('0x8007232B (NXDOMAIN)') });
  });

  test('srv-in-unasked-domain (Knot): records in the suffix, but a pinned lookup domain is asked alone', async () => {
    await using knot = await startKnot({ 'lab.test': zone('_vlmcs._tcp IN SRV 0 0 1688 kms1', 'kms1 IN A 127.0.0.1') });
    const seen = await dig('kdig', '127.0.0.1', knot.port, ['_VLMCS._TCP.lab.test', 'SRV']);
    expect(seen.answer.join('\n')).toContain('1688 kms1.lab.test.');
    const r = await check('--dns', knot.address, '--domain', 'lab.test', '--lookup-domain', 'kms.lab.test');
    expect(r.asked).toEqual(['kms.lab.test']);
    expect(ids(r)).toEqual(['srv-in-unasked-domain']);
    expect(one(r, 'srv-in-unasked-domain')).toMatchObject({ domain: 'lab.test', client: expect.stringContaining('never falls back to lab.test') });
    // Without the pinned domain the suffix is asked and the records are found.
    expect(ids(await check('--dns', knot.address, '--domain', 'lab.test', '--no-connect'))).toEqual([]);
  });

  test('target-cname (Knot): the SRV target is an alias, which RFC 2782 forbids', async () => {
    await using knot = await startKnot({ 'lab.test': zone('_vlmcs._tcp IN SRV 0 0 1688 kms', 'kms IN CNAME kms1', 'kms1 IN A 127.0.0.1') });
    const seen = await dig('kdig', '127.0.0.1', knot.port, ['kms.lab.test', 'A']);
    expect(seen.answer.join('\n')).toMatch(/kms\.lab\.test\. \d+ IN CNAME kms1\.lab\.test\./);
    const r = await check('--dns', knot.address, '--domain', 'lab.test', '--no-connect');
    expect(ids(r)).toEqual(['target-cname']);
    expect(one(r, 'target-cname')).toMatchObject({ severity: 'error', detail: 'kms.lab.test is an alias of kms1.lab.test' });
  });

  test('target-no-address (dnsmasq): the SRV names a host with no A or AAAA', async () => {
    await using dnsmasq = await startDnsmasq(['--local=/lab.test/', '--srv-host=_vlmcs._tcp.lab.test,ghost.lab.test,1688,0,0']);
    const r = await check('--dns', dnsmasq.address, '--domain', 'lab.test');
    expect(ids(r)).toEqual(['target-no-address']);
    expect(one(r, 'target-no-address')).toMatchObject({ severity: 'error', subject: '0 0 1688 ghost.lab.test', client: expect.stringContaining('0xC004F074') });
  });

  test('target-unreachable (kmslab DNS): a retired host at priority 0 costs every client about 2 s before the live one — as the client itself then shows', async () => {
    await using dns = await startDns(zone(`_vlmcs._tcp IN SRV 0 0 ${deadPort} old`, `_vlmcs._tcp IN SRV 10 0 ${host.host.port} kms1`, 'old IN A 127.0.0.1', 'kms1 IN A 127.0.0.1'));
    const r = await check('--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test');
    expect(idsOnFreePort(r)).toEqual(['target-unreachable']);
    const f = one(r, 'target-unreachable');
    expect(f).toMatchObject({ severity: 'error', subject: `0 0 ${deadPort} old.lab.test`, detail: `127.0.0.1:${deadPort}: no connection` });
    expect(f.client).toContain('every client without a cached host tries it first (priority 0 before 10) and loses about 2.1 s');
    // What the finding says is what kmslab's client (Windows profile) does: about 2 s on the dead target, then the live host.
    const start = performance.now();
    const outcome = await activateOnce({ state: newClientState(), productId: 'windows-11-enterprise', clock: realClock, dns: { host: '127.0.0.1', port: dns.port }, domains: ['lab.test'], random: Math.random });
    expect(performance.now() - start).toBeGreaterThan(1950);
    expect(outcome).toMatchObject({ host: `kms1.lab.test:${host.host.port}`, tried: [{ host: `127.0.0.1:${deadPort}`, error: expect.stringContaining('5 tries over 2 s') }] });
    // A dead target at the same priority as a live one is a warning with its odds.
    await using same = await startDns(zone(`_vlmcs._tcp IN SRV 0 20 ${deadPort} old`, `_vlmcs._tcp IN SRV 0 80 ${host.host.port} kms1`, 'old IN A 127.0.0.1', 'kms1 IN A 127.0.0.1'));
    const w = await check('--dns', `127.0.0.1:${same.port}`, '--domain', 'lab.test');
    expect(w).toMatchObject({ code: 1, verdict: 'warnings' });
    expect(idsOnFreePort(w)).toEqual(['target-unreachable']);
    expect(one(w, 'target-unreachable')).toMatchObject({ severity: 'warning', client: expect.stringContaining('about 20 % of lookups (weight 20 of 100)') });
  });

  test('servers-disagree (BIND and Knot): the client\'s two DNS servers hold different SRV sets', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'lab.test.db'), zone('_vlmcs._tcp IN SRV 0 0 1688 kms1', 'kms1 IN A 127.0.0.1'));
    await using bind = await NamedServer.start(`zone "lab.test" { type primary; file "${join(dir, 'lab.test.db')}"; };`);
    await using knot = await startKnot({ 'lab.test': zone('_vlmcs._tcp IN SRV 0 0 1688 kms1', '_vlmcs._tcp IN SRV 10 0 1688 kms2', 'kms1 IN A 127.0.0.1', 'kms2 IN A 127.0.0.1') });
    const r = await check('--dns', `127.0.0.1:${bind.port}`, '--dns', knot.address, '--domain', 'lab.test', '--no-connect');
    expect(ids(r)).toEqual(['servers-disagree']);
    expect(r).toMatchObject({ code: 1, verdict: 'warnings' });
    expect(one(r, 'servers-disagree').detail).toBe(`127.0.0.1:${bind.port}: 0 0 1688 kms1.lab.test | ${knot.address}: 0 0 1688 kms1.lab.test, 10 0 1688 kms2.lab.test`);
  });

  test('case-differs (kmslab DNS, a case-sensitive rule): _VLMCS._TCP answered, _vlmcs._tcp not', async () => {
    await using dns = await startDns(zone(`_vlmcs._tcp IN SRV 0 0 ${host.host.port} kms1`, 'kms1 IN A 127.0.0.1'));
    dns.faults.add(parseFaultRule('_vlmcs._tcp.lab.test/SRV=nxdomain,case=exact', Date.now()));
    const r = await check('--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test');
    expect(idsOnFreePort(r)).toEqual(['case-differs']);
    expect(one(r, 'case-differs').detail).toBe(`127.0.0.1:${dns.port}: _VLMCS._TCP.lab.test → 0 0 ${host.host.port} kms1.lab.test; _vlmcs._tcp.lab.test → NXDOMAIN`);
    // The other way round too: a filter that knows only the lower-case spelling leaves Windows without hosts.
    dns.faults.clear();
    dns.faults.add(parseFaultRule('_VLMCS._TCP.lab.test/SRV=refused,case=exact', Date.now()));
    const w = await check('--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test');
    expect(idsOnFreePort(w)).toEqual(['case-differs', 'no-srv']);
  });

  test('truncated-tcp-fails (kmslab DNS, faults): the answer comes truncated over UDP and TCP gets nothing', async () => {
    await using dns = await startDns(zone(`_vlmcs._tcp IN SRV 0 0 ${host.host.port} kms1`, 'kms1 IN A 127.0.0.1'));
    const faulted = (d: DnsServer) => {
      d.faults.add(parseFaultRule('_vlmcs._tcp.lab.test/SRV=truncate,transport=udp', Date.now()));
      d.faults.add(parseFaultRule('_vlmcs._tcp.lab.test/SRV=drop,transport=tcp', Date.now()));
    };
    faulted(dns);
    const r = await check('--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test');
    expect(ids(r)).toEqual(['no-srv', 'truncated-tcp-fails']);
    expect(one(r, 'truncated-tcp-fails').detail).toMatch(/^UDP answer truncated \(TC\); over TCP: .*did not answer over TCP in time/);
    expect(r.answers[0]!.answers[0]).toMatchObject({ truncated: true, errorCode: '0x800705B4' });
  });

  describe('through Unbound in front of kmslab DNS, as a client\'s resolver', () => {
    let kmsDns: DnsServer;
    let unbound: Awaited<ReturnType<typeof startUnbound>>;
    let report: CheckReport & { code: number };
    beforeAll(async () => {
      kmsDns = await startDns(zone('_vlmcs._tcp 172800 IN SRV 0 0 1689 kms1', '_vlmcs._tcp 172800 IN SRV 0 0 1688 kms2', 'kms1 IN A 127.0.0.1', 'kms2 IN A 127.0.0.1'));
      unbound = await startUnbound([{ zone: 'lab.test', port: kmsDns.port }]);
      report = await check('--dns', unbound.address, '--domain', 'lab.test', '--no-connect');
    });
    afterAll(async () => {
      await unbound?.[Symbol.asyncDispose]();
      await kmsDns?.close();
    });

    test('no-preference: every record at priority 0, weight 0', () => {
      expect(ids(report)).toEqual(['no-preference', 'port-not-1688', 'ttl-long', 'ttl-long']);
      expect(report).toMatchObject({ code: 1, verdict: 'warnings' });
      expect(one(report, 'no-preference').detail).toBe('2 records, all priority 0 weight 0');
    });

    test('port-not-1688: the client connects to the port in the record', () => {
      expect(one(report, 'port-not-1688')).toMatchObject({ subject: '0 0 1689 kms1.lab.test', detail: 'port 1689' });
    });

    test('ttl-long: a TTL of days keeps a retired host in caches (Unbound hands out at most its cache-max-ttl, a day)', () => {
      const long = report.findings.filter((f) => f.id === 'ttl-long');
      expect(long.map((f) => f.detail)).toEqual(['TTL 86400 s (1.0 days)', 'TTL 86400 s (1.0 days)']);
    });
  });

  test('--zone-file: the same findings offline, from the zone alone; a bad file is one line', async () => {
    const dir = tmp();
    const file = join(dir, 'lab.test.zone');
    writeFileSync(file, zone('_vlmcs._tcp 604800 IN SRV 0 0 1688 kms', '_vlmcs._tcp 604800 IN SRV 0 0 1689 ghost', 'kms IN CNAME kms1', 'kms1 IN A 127.0.0.1'));
    const r = await check('--zone-file', file);
    expect(ids(r)).toEqual(['no-preference', 'port-not-1688', 'target-cname', 'target-no-address', 'ttl-long', 'ttl-long']);
    expect(r).toMatchObject({ code: 2, servers: [], asked: ['lab.test'] });
    const empty = join(dir, 'empty.zone');
    writeFileSync(empty, zone('kms1 IN A 127.0.0.1'));
    expect(ids(await check('--zone-file', empty))).toEqual(['no-srv']);
    const bad = await runCli(['discover', '--check', '--zone-file', join(dir, 'missing.zone')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^kmslab: .*missing\.zone.* \(KMSLAB_[A-Z_]+\)\n$/);
  });
});
