import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DnsServer, ZoneSet, defaultZone, parseFaultRule } from '@kmslab/dns';
import { dig, run } from './support/dns-tools.js';
import { runCli, startCliHost, startCliProcess } from './support/cli.js';
import { tempDir } from './support/kms-host.js';

const SRV = '_vlmcs._tcp.lab.test';
const dataDir = () => mkdtempSync(join(tmpdir(), 'kmslab-dns-'));

/** kmslab dns start with a zone holding one SRV record and its target, plus the given --fault rules. */
async function dnsWithFaults(...faults: string[]) {
  const dir = dataDir();
  const zone = join(dir, 'lab.zone');
  writeFileSync(zone, `$ORIGIN lab.test.\n$TTL 600\n@ IN SOA ns hostmaster 1 3600 600 86400 300\n@ IN NS ns\nns IN A 127.0.0.1\n_vlmcs._tcp IN SRV 0 0 1688 kms1\nkms1 IN A 127.0.0.11\n`);
  return startCliProcess(['dns', 'start', '--zone-file', zone, '--data-dir', join(dir, 'data'), '--seed', '1', ...faults.flatMap((f) => ['--fault', f])]);
}

describe('DNS faults seen by real dig and kdig (docs/dns-faults.md)', () => {
  test('rcode faults: servfail, refused, formerr, notimp; nxdomain and nodata carry the SOA; other names answer normally', async () => {
    await using dns = await dnsWithFaults(`${SRV}/SRV=servfail`, 'kms1.lab.test/A=refused', 'f.lab.test=formerr', 'n.lab.test=notimp', 'gone.lab.test=nxdomain', 'ns.lab.test/A=nodata');
    expect((await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV'])).status).toBe('SERVFAIL');
    expect((await dig('kdig', '127.0.0.1', dns.port, [SRV, 'SRV'])).status).toBe('SERVFAIL');
    expect((await dig('dig', '127.0.0.1', dns.port, ['kms1.lab.test', 'A'])).status).toBe('REFUSED');
    expect((await dig('dig', '127.0.0.1', dns.port, ['f.lab.test', 'A'])).status).toBe('FORMERR');
    expect((await dig('dig', '127.0.0.1', dns.port, ['n.lab.test', 'A'])).status).toBe('NOTIMP');
    const nx = await dig('dig', '127.0.0.1', dns.port, ['gone.lab.test', 'A']);
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.authority[0]).toMatch(/SOA/);
    const nodata = await dig('dig', '127.0.0.1', dns.port, ['ns.lab.test', 'A']);
    expect(nodata).toMatchObject({ status: 'NOERROR', answer: [] });
    expect(nodata.authority[0]).toMatch(/SOA/);
    // Not matched: the zone answers as it is.
    expect((await dig('dig', '127.0.0.1', dns.port, ['kms1.lab.test', 'AAAA'])).status).toBe('NOERROR');
    expect((await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'SOA'])).answer).toHaveLength(1);
  });

  test('drop: no answer within +time=1; delay:400 answers after ~400 ms; ttl:5 answers with TTL 5; truncate: TC over UDP, then a good TCP answer', async () => {
    await using dns = await dnsWithFaults('quiet.lab.test=drop', 'kms1.lab.test/A=delay:400', `${SRV}/SRV=ttl:5`, 'ns.lab.test/A=truncate');
    const dropped = await run('dig', ['@127.0.0.1', '-p', String(dns.port), '+time=1', '+tries=1', 'quiet.lab.test', 'A']);
    expect(dropped.stdout).toMatch(/timed out|no servers could be reached/);
    const t = performance.now();
    const slow = await dig('dig', '127.0.0.1', dns.port, ['kms1.lab.test', 'A']);
    expect(slow.status).toBe('NOERROR');
    expect(performance.now() - t).toBeGreaterThanOrEqual(380);
    expect((await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV'])).answer[0]).toMatch(new RegExp(`^${SRV.replace(/\./g, '\\.')}\\. 5 IN SRV 0 0 1688 kms1\\.lab\\.test\\.$`));
    const ignored = await dig('dig', '127.0.0.1', dns.port, ['+ignore', 'ns.lab.test', 'A']);
    expect(ignored.flags).toContain('tc');
    expect(ignored.answer).toEqual([]);
    const retried = await dig('dig', '127.0.0.1', dns.port, ['ns.lab.test', 'A']);
    expect(retried.raw).toMatch(/Truncated, retrying in TCP mode/);
    expect(retried.answer[0]).toMatch(/127\.0\.0\.1$/);
  });

  test('count=2 fails the first two matching queries; every=2 every second one', async () => {
    await using dns = await dnsWithFaults('kms1.lab.test/A=servfail,count=2', `${SRV}/SRV=refused,every=2`);
    const a = [];
    for (let i = 0; i < 4; i++) a.push((await dig('dig', '127.0.0.1', dns.port, ['kms1.lab.test', 'A'])).status);
    expect(a).toEqual(['SERVFAIL', 'SERVFAIL', 'NOERROR', 'NOERROR']);
    const s = [];
    for (let i = 0; i < 4; i++) s.push((await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV'])).status);
    expect(s).toEqual(['NOERROR', 'REFUSED', 'NOERROR', 'REFUSED']);
  });

  test('update-refused and update-notauth: nsupdate sees REFUSED, then NOTAUTH, and the zone is unchanged; count=1 lets the next update through', async () => {
    const secret = Buffer.alloc(32, 7).toString('base64');
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', dataDir(), '--tsig-key', `admin:hmac-sha256:${secret}`, '--fault', 'lab.test=update-refused,count=1', '--fault', 'lab.test=update-notauth,count=1']);
    const update = () => run('nsupdate', ['-y', `hmac-sha256:admin:${secret}`], `server 127.0.0.1 ${dns.port}\nzone lab.test\nupdate add www.lab.test 600 IN A 127.0.0.5\nsend\n`);
    expect((await update()).stderr).toMatch(/REFUSED/);
    expect((await update()).stderr).toMatch(/NOTAUTH/);
    expect((await dig('dig', '127.0.0.1', dns.port, ['www.lab.test', 'A'])).status).toBe('NXDOMAIN');
    expect((await update()).code).toBe(0);
    expect((await dig('dig', '127.0.0.1', dns.port, ['www.lab.test', 'A'])).answer[0]).toMatch(/127\.0\.0\.5$/);
  });

  test('faults from the config file; a bad one names the file and the rule', async () => {
    const dir = dataDir();
    const good = join(dir, 'dns.json');
    writeFileSync(good, JSON.stringify({ zones: [{ name: 'lab.test' }], faults: [{ name: SRV, type: 'SRV', action: 'servfail' }] }));
    await using dns = await startCliProcess(['dns', 'start', '--config', good, '--data-dir', join(dir, 'data')]);
    expect((await dig('dig', '127.0.0.1', dns.port, [SRV, 'SRV'])).status).toBe('SERVFAIL');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ faults: [{ name: SRV, action: 'servfail' }, { name: SRV, action: 'ttl:-1' }] }));
    const r = await runCli(['dns', 'start', '--config', bad, '--port', '0', '--data-dir', join(dir, 'data2')]);
    expect(r.stderr).toMatch(/^kmslab: .*bad\.json: faults\[1\]: Fault rule ".*": action "ttl:-1" needs ttl:N .*\(KMSLAB_INVALID_ARGUMENT\)\n$/);
  });

  test('a malformed rule is one line naming the part that is wrong, and nothing starts', async () => {
    const r = await runCli(['dns', 'start', '--port', '0', '--data-dir', dataDir(), '--fault', `${SRV}/SRV=servfail,probability=7`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmslab: Fault rule ".*": probability "7" must be a number from 0 to 1 \(docs\/dns-faults\.md\) \(KMSLAB_INVALID_ARGUMENT\)\n$/);
  });
});

describe('the query log', () => {
  test('holds each query with its fields: client, transport, id, name, type, flags, rcode, answers, TC, latency, fault', async () => {
    const zones = new ZoneSet();
    zones.add(defaultZone('lab.test'));
    await using server = await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0 });
    server.faults.add(parseFaultRule('nope.lab.test=servfail', Date.now()));
    await dig('dig', '127.0.0.1', server.port, ['+bufsize=1232', 'lab.test', 'SOA']);
    await dig('dig', '127.0.0.1', server.port, ['+tcp', '+noedns', 'ns.lab.test', 'A']);
    await dig('dig', '127.0.0.1', server.port, ['nope.lab.test', 'A']);
    const log = server.queryLog!;
    const [soa, a, failed] = log.find();
    expect(soa).toMatchObject({ transport: 'udp', kind: 'query', qname: 'lab.test', qtype: 'SOA', flags: { rd: true, ednsSize: 1232 }, rcode: 'NOERROR', answers: 1, tc: false, fault: null });
    expect(soa!.client.address).toBe('127.0.0.1');
    expect(soa!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(a).toMatchObject({ transport: 'tcp', qname: 'ns.lab.test', qtype: 'A', flags: { ednsSize: null }, rcode: 'NOERROR', answers: 1 });
    expect(failed).toMatchObject({ qname: 'nope.lab.test', rcode: 'SERVFAIL', fault: { id: '1', action: 'servfail' } });
    expect(log.find({ name: '*.lab.test' }).map((e) => e.qname)).toEqual(['ns.lab.test', 'nope.lab.test']);
  });
});

describe("Node's own resolver (c-ares) sees each fault", () => {
  test('ESERVFAIL, EREFUSED, ENOTFOUND, ENODATA, EFORMERR, ENOTIMP, ETIMEOUT; truncate retried over TCP; ttl:N and delay seen', async () => {
    const { Resolver } = await import('node:dns/promises');
    await using dns = await dnsWithFaults('sf.lab.test=servfail', 'rf.lab.test=refused', 'nx.lab.test=nxdomain', 'nd.lab.test=nodata', 'fe.lab.test=formerr', 'ni.lab.test=notimp', 'dr.lab.test=drop', `${SRV}/SRV=truncate`, 'kms1.lab.test/A=ttl:7', 'ns.lab.test/A=delay:300');
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`127.0.0.1:${dns.port}`]);
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (err: NodeJS.ErrnoException) => err.code);
    expect(await code(resolver.resolve4('sf.lab.test'))).toBe('ESERVFAIL');
    expect(await code(resolver.resolve4('rf.lab.test'))).toBe('EREFUSED');
    expect(await code(resolver.resolve4('nx.lab.test'))).toBe('ENOTFOUND');
    expect(await code(resolver.resolve4('nd.lab.test'))).toBe('ENODATA');
    expect(await code(resolver.resolve4('fe.lab.test'))).toBe('EFORMERR');
    expect(await code(resolver.resolve4('ni.lab.test'))).toBe('ENOTIMP');
    expect(await code(resolver.resolve4('dr.lab.test'))).toBe('ETIMEOUT');
    expect(await resolver.resolveSrv(SRV)).toEqual([{ name: 'kms1.lab.test', port: 1688, priority: 0, weight: 0 }]);
    expect(await resolver.resolve4('kms1.lab.test', { ttl: true })).toEqual([{ address: '127.0.0.11', ttl: 7 }]);
    const t = performance.now();
    expect(await resolver.resolve4('ns.lab.test')).toEqual(['127.0.0.1']);
    expect(performance.now() - t).toBeGreaterThanOrEqual(280);
  });
});

describe('what the client reports for each DNS failure (the HRESULT of the Win32 error a Windows client sees)', () => {
  test('NXDOMAIN 0x8007232B, no records 0x8007251D, SERVFAIL 0x8007232A, REFUSED 0x8007232D, no answer 0x800705B4, no domain 0x8007007B; the last domain tried decides; discover shows each domain', async () => {
    const faults = ['_vlmcs._tcp.sf.test/SRV=servfail', '_vlmcs._tcp.rf.test=refused', '_vlmcs._tcp.nd.test=nodata', '_vlmcs._tcp.dr.test=drop', '_vlmcs._tcp.fe.test=formerr', '_vlmcs._tcp.ni.test=notimp'];
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', dataDir(), ...['nx.test', 'sf.test', 'rf.test', 'nd.test', 'dr.test', 'fe.test', 'ni.test'].flatMap((z) => ['--zone', z]), ...faults.flatMap((f) => ['--fault', f])]);
    const activate = async (...domains: string[]) => {
      const r = await runCli(['client', 'activate', '--product', 'windows-10-pro', '--dns', `127.0.0.1:${dns.port}`, ...domains.flatMap((d) => ['--domain', d]), '--state-dir', dataDir(), '--json']);
      return JSON.parse(r.stdout) as { licensed: boolean; errorCode: string; message: string };
    };
    expect(await activate('nx.test')).toMatchObject({ licensed: false, errorCode: '0x8007232B' });
    expect(await activate('nd.test')).toMatchObject({ errorCode: '0x8007251D' });
    expect(await activate('sf.test')).toMatchObject({ errorCode: '0x8007232A' });
    expect(await activate('rf.test')).toMatchObject({ errorCode: '0x8007232D' });
    expect(await activate('dr.test')).toMatchObject({ errorCode: '0x800705B4' });
    expect(await activate('fe.test')).toMatchObject({ errorCode: '0x80072329' });
    expect(await activate('ni.test')).toMatchObject({ errorCode: '0x8007232C' });
    expect(await activate('sf.test', 'nx.test')).toMatchObject({ errorCode: '0x8007232B' });
    expect(await activate('nx.test', 'sf.test')).toMatchObject({ errorCode: '0x8007232A', message: expect.stringMatching(/_VLMCS\._TCP\.nx\.test: NXDOMAIN; _VLMCS\._TCP\.sf\.test: SERVFAIL/) });
    // No domain to search at all (no primary suffix, no search list): 0x8007007B, and no host is tried.
    const { activateOnce, newClientState } = await import('@kmslab/client');
    const none = await activateOnce({ state: newClientState(), productId: 'windows-10-pro', clock: { now: () => Date.now() }, dns: { host: '127.0.0.1', port: dns.port }, domains: [], random: Math.random });
    expect(none).toMatchObject({ response: null, errorCode: '0x8007007B', tried: [] });
    const report = JSON.parse((await runCli(['discover', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'nx.test', '--domain', 'nd.test', '--json'])).stdout) as { lookups: Array<{ domain: string; errorCode: string }> };
    expect(report.lookups.map((d) => [d.domain, d.errorCode])).toEqual([['nx.test', '0x8007232B'], ['nd.test', '0x8007251D']]);
  });
});

/** A lab.test zone file whose SRV record points at a KMS host on this port (127.0.0.1). */
function zoneWithHost(dir: string, port: number): string {
  const zone = join(dir, 'lab.zone');
  writeFileSync(zone, `$ORIGIN lab.test.\n$TTL 60\n@ IN SOA ns h 1 60 60 60 60\n@ IN NS ns\nns IN A 127.0.0.1\n_vlmcs._tcp IN SRV 0 0 ${port} kms1\nkms1 IN A 127.0.0.1\n`);
  return zone;
}

describe('several DNS servers, as a resolver has them', () => {
  test('the first drops everything, the second answers: the client still activates through the second; discover shows which server answered what', async () => {
    await using dir = tempDir();
    await using host = await startCliHost(['--data-dir', join(dir.path, 'host')]);
    const zone = zoneWithHost(dir.path, host.port);
    await using silent = await startCliProcess(['dns', 'start', '--zone-file', zone, '--data-dir', join(dir.path, 'd1'), '--fault', '*.test=drop']);
    await using broken = await startCliProcess(['dns', 'start', '--zone-file', zone, '--data-dir', join(dir.path, 'd2'), '--fault', '*.test=servfail']);
    await using good = await startCliProcess(['dns', 'start', '--zone-file', zone, '--data-dir', join(dir.path, 'd3')]);
    const servers = [silent, broken, good].flatMap((d) => ['--dns', `127.0.0.1:${d.port}`]);
    const r = JSON.parse((await runCli(['client', 'activate', '--product', 'windows-10-pro', ...servers, '--domain', 'lab.test', '--state-dir', join(dir.path, 'client'), '--json'])).stdout);
    expect(r).toMatchObject({ count: 1, discoveredBy: 'dns' });
    const report = JSON.parse((await runCli(['discover', ...servers, '--domain', 'lab.test', '--json'])).stdout) as { servers: string[]; steps: Array<{ step: string; text: string }>; usable: boolean };
    expect(report.servers).toHaveLength(3);
    expect(report.usable).toBe(true);
    const answers = report.steps.filter((s) => s.step === 'answer').map((s) => s.text);
    expect(answers[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1:${silent.port}: no answer`));
    expect(answers[1]).toBe(`127.0.0.1:${broken.port}: SERVFAIL`);
    expect(answers[2]).toBe(`127.0.0.1:${good.port}: NOERROR`);
    // All of them failing: the code of the last answer (SERVFAIL), not a timeout.
    const failed = JSON.parse((await runCli(['client', 'activate', '--product', 'windows-10-pro', '--dns', `127.0.0.1:${silent.port}`, '--dns', `127.0.0.1:${broken.port}`, '--domain', 'lab.test', '--state-dir', join(dir.path, 'client2'), '--json'])).stdout);
    expect(failed).toMatchObject({ licensed: false, errorCode: '0x8007232A' });
  });
});

describe('faults the client rides through', () => {
  test('delay, truncate (retried over TCP) and ttl on the SRV lookup: the kmslab client still activates', async () => {
    await using dir = tempDir();
    await using host = await startCliHost(['--data-dir', join(dir.path, 'host')]);
    const zone = zoneWithHost(dir.path, host.port);
    for (const [i, rule] of [`${SRV}/SRV=delay:300`, `${SRV}/SRV=truncate,transport=udp`, `${SRV}/SRV=ttl:1`].entries()) {
      await using dns = await startCliProcess(['dns', 'start', '--zone-file', zone, '--data-dir', join(dir.path, `d${i}`), '--fault', rule]);
      const r = JSON.parse((await runCli(['client', 'activate', '--product', 'windows-10-pro', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--state-dir', join(dir.path, `c${i}`), '--json'])).stdout);
      expect(r, rule).toMatchObject({ discoveredBy: 'dns', count: i + 1 });
    }
  });
});
