import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLASS, OPCODE, TYPE, emptyMessage, exchangeUdp, parseTsigKey, rcodeName, signRequest } from '@kmslab/dns-wire';
import { dig, run } from './support/dns-tools.js';
import { runCli, startCliProcess } from './support/cli.js';

const secret = () => randomBytes(32).toString('base64');

function nsupdate(port: number, key: string | null, lines: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = [`server 127.0.0.1 ${port}`, 'zone lab.test', ...lines, 'send', ''].join('\n');
  return run('nsupdate', key ? ['-y', key] : [], script);
}

async function srv(port: number): Promise<string[]> {
  return (await dig('dig', '127.0.0.1', port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.map((l) => l.split(' ').slice(4).join(' ')).sort();
}

async function serial(port: number): Promise<number> {
  return Number((await dig('dig', '127.0.0.1', port, ['lab.test', 'SOA'])).answer[0]!.split(' ')[6]);
}

describe('dynamic update (RFC 2136) with TSIG (RFC 8945), through real nsupdate', () => {
  test('a zone-wide key adds and removes a _vlmcs._tcp SRV record; the serial goes up once per update', async () => {
    const s = secret();
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')), '--tsig-key', `admin:hmac-sha256:${s}`]);
    const before = await serial(dns.port);
    const add = await nsupdate(dns.port, `hmac-sha256:admin:${s}`, [
      'update add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 kms1.lab.test.',
      'update add kms1.lab.test 600 IN A 127.0.0.11',
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(await srv(dns.port)).toEqual(['0 0 1688 kms1.lab.test.']);
    expect(await serial(dns.port)).toBe(before + 1);
    const del = await nsupdate(dns.port, `hmac-sha256:admin:${s}`, ['update delete _vlmcs._tcp.lab.test SRV 0 0 1688 kms1.lab.test.']);
    expect(del.code, del.stderr).toBe(0);
    expect(await srv(dns.port)).toEqual([]);
    expect(await serial(dns.port)).toBe(before + 2);
  });

  test('without a key, or with a wrong key, the update is refused and nothing changes', async () => {
    const s = secret();
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')), '--tsig-key', `admin:hmac-sha256:${s}`]);
    const before = await serial(dns.port);
    const unsigned = await nsupdate(dns.port, null, ['update add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 rogue.lab.test.']);
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toMatch(/REFUSED/);
    const wrong = await nsupdate(dns.port, `hmac-sha256:admin:${secret()}`, ['update add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 rogue.lab.test.']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/NOTAUTH\(BADSIG\)/);
    const unknown = await nsupdate(dns.port, `hmac-sha256:stranger:${s}`, ['update add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 rogue.lab.test.']);
    expect(unknown.stderr).toMatch(/NOTAUTH\(BADKEY\)/);
    expect(await srv(dns.port)).toEqual([]);
    expect(await serial(dns.port)).toBe(before);
  });

  test('a host key may publish only its own SRV target and A record (like update-policy)', async () => {
    const s = secret();
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')),
      '--tsig-key', `kms1:hmac-sha256:${s}:host=kms1.lab.test`, '--tsig-key', `kms2:hmac-sha256:${s}:host=kms2.lab.test`]);
    expect((await nsupdate(dns.port, `hmac-sha256:kms1:${s}`, ['update add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 kms1.lab.test.', 'update add kms1.lab.test 600 IN A 127.0.0.11'])).code).toBe(0);
    expect((await nsupdate(dns.port, `hmac-sha256:kms2:${s}`, ['update add _vlmcs._tcp.lab.test 600 IN SRV 10 0 1688 kms2.lab.test.'])).code).toBe(0);
    // kms1 may not point the SRV at another host, touch kms2's address, or wipe the shared RRset.
    for (const line of ['update add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 evil.lab.test.', 'update add kms2.lab.test 600 IN A 127.0.0.66', 'update delete _vlmcs._tcp.lab.test SRV', 'update add www.lab.test 600 IN A 127.0.0.1']) {
      const r = await nsupdate(dns.port, `hmac-sha256:kms1:${s}`, [line]);
      expect(r.stderr, line).toMatch(/REFUSED/);
    }
    expect(await srv(dns.port)).toEqual(['0 0 1688 kms1.lab.test.', '10 0 1688 kms2.lab.test.']);
    // It may remove its own record.
    expect((await nsupdate(dns.port, `hmac-sha256:kms1:${s}`, ['update delete _vlmcs._tcp.lab.test SRV 0 0 1688 kms1.lab.test.'])).code).toBe(0);
    expect(await srv(dns.port)).toEqual(['10 0 1688 kms2.lab.test.']);
  });

  test('prerequisites: NXDOMAIN, YXDOMAIN and NXRRSET answers leave the zone unchanged', async () => {
    const s = secret();
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')), '--tsig-key', `admin:hmac-sha256:${s}`]);
    const key = `hmac-sha256:admin:${s}`;
    expect((await nsupdate(dns.port, key, ['prereq yxdomain nothere.lab.test', 'update add a.lab.test 60 IN A 1.1.1.1'])).stderr).toMatch(/NXDOMAIN/);
    expect((await nsupdate(dns.port, key, ['prereq nxdomain ns.lab.test', 'update add a.lab.test 60 IN A 1.1.1.1'])).stderr).toMatch(/YXDOMAIN/);
    expect((await nsupdate(dns.port, key, ['prereq yxrrset ns.lab.test AAAA', 'update add a.lab.test 60 IN A 1.1.1.1'])).stderr).toMatch(/NXRRSET/);
    expect((await dig('dig', '127.0.0.1', dns.port, ['a.lab.test', 'A'])).status).toBe('NXDOMAIN');
    expect((await nsupdate(dns.port, key, ['prereq yxrrset ns.lab.test A 127.0.0.1', 'update add a.lab.test 60 IN A 1.1.1.1'])).code).toBe(0);
    expect((await dig('dig', '127.0.0.1', dns.port, ['a.lab.test', 'A'])).answer).toEqual(['a.lab.test. 60 IN A 1.1.1.1']);
  });

  test('updates survive a restart (zone kept in the data dir)', async () => {
    const s = secret();
    const dataDir = mkdtempSync(join(tmpdir(), 'kmslab-dns-'));
    const args = ['dns', 'start', '--data-dir', dataDir, '--tsig-key', `admin:hmac-sha256:${s}`];
    let after: number;
    {
      await using dns = await startCliProcess(args);
      expect((await nsupdate(dns.port, `hmac-sha256:admin:${s}`, ['update add _vlmcs._tcp.lab.test 600 IN SRV 5 10 1688 kms9.lab.test.'])).code).toBe(0);
      after = await serial(dns.port);
    }
    await using again = await startCliProcess(args);
    expect(await srv(again.port)).toEqual(['5 10 1688 kms9.lab.test.']);
    expect(await serial(again.port)).toBe(after);
  });

  test('zone transfer: signed with the key it works, unsigned it is refused once keys exist', async () => {
    const s = secret();
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')), '--tsig-key', `admin:hmac-sha256:${s}`]);
    const signed = await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'AXFR', '-y', `hmac-sha256:admin:${s}`]);
    expect(signed.raw).toMatch(/XFR size: 4 records/);
    const unsigned = await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'AXFR']);
    expect(unsigned.raw).toMatch(/Transfer failed/);
  });

  test('zone transfer needs a zone or transfer grant: a host= key cannot read the whole zone', async () => {
    const [host, xfr] = [secret(), secret()];
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')),
      '--tsig-key', `kms1:hmac-sha256:${host}:host=kms1.lab.test`, '--tsig-key', `secondary:hmac-sha256:${xfr}:transfer`]);
    const byHost = await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'AXFR', '-y', `hmac-sha256:kms1:${host}`]);
    expect(byHost.raw).toMatch(/Transfer failed/);
    expect(byHost.raw).not.toMatch(/SOA/);
    const bySecondary = await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'AXFR', '-y', `hmac-sha256:secondary:${xfr}`]);
    expect(bySecondary.raw).toMatch(/XFR size: 4 records/);
    // A transfer grant changes nothing.
    expect((await nsupdate(dns.port, `hmac-sha256:secondary:${xfr}`, ['update add www.lab.test 600 IN A 127.0.0.1'])).stderr).toMatch(/REFUSED/);
    await expect.poll(() => dns.logs()).toMatch(/"event":"transfer-refused".*"reason":"no zone or transfer grant"/);
  });

  test('kmslab dns records with --tsig-key-file signs the transfer and verifies the signed answer; without a key it is KMSLAB_DNS_REFUSED saying what to give, and with a host= key too', async () => {
    const [xfr, host] = [secret(), secret()];
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-dns-'));
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', join(dir, 'data'), '--tsig-key', `secondary:hmac-sha256:${xfr}:transfer`, '--tsig-key', `kms1:hmac-sha256:${host}:host=kms1.lab.test`]);
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, `secondary:hmac-sha256:${xfr}:transfer\n`, { mode: 0o600 });
    const records = await runCli(['dns', 'records', '--dns', `127.0.0.1:${dns.port}`, '--tsig-key-file', keyFile, '--json']);
    expect(records.code, records.stderr).toBe(0);
    expect((JSON.parse(records.stdout) as Array<{ type: string }>).map((r) => r.type).sort()).toEqual(['A', 'NS', 'SOA']);
    const without = await runCli(['dns', 'records', '--dns', `127.0.0.1:${dns.port}`]);
    expect(without.stderr).toBe(`kmslab: 127.0.0.1:${dns.port} refused the zone transfer of lab.test (REFUSED): it lets only a TSIG key transfer it: give one with --tsig-key-file FILE (or KMSLAB_TSIG_KEY) (KMSLAB_DNS_REFUSED)\n`);
    const byHost = await runCli(['dns', 'records', '--dns', `127.0.0.1:${dns.port}`, '--tsig-key', `kms1:hmac-sha256:${host}`]);
    expect(byHost.stderr).toMatch(/refused the zone transfer of lab\.test \(REFUSED\): the key kms1 may not transfer it .*\(KMSLAB_DNS_REFUSED\)\n$/);
    const wrongSecret = await runCli(['dns', 'records', '--dns', `127.0.0.1:${dns.port}`, '--tsig-key', `secondary:hmac-sha256:${secret()}`]);
    expect(wrongSecret.stderr).toMatch(/refused the zone transfer of lab\.test \(NOTAUTH\).*\(KMSLAB_DNS_REFUSED\)\n$/);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a signed update replayed byte for byte within the fudge window is refused (REFUSED, logged as a replay), the zone unchanged', async () => {
    const s = secret();
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')), '--tsig-key', `admin:hmac-sha256:${s}`]);
    const key = parseTsigKey(`admin:hmac-sha256:${s}`);
    const update = (id: number, op: 'add' | 'delete') => {
      const m = emptyMessage(id);
      m.opcode = OPCODE.UPDATE;
      m.questions = [{ name: 'lab.test', type: TYPE.SOA, class: CLASS.IN }];
      const data = { type: 'SRV' as const, priority: 0, weight: 0, port: 1688, target: 'kms1.lab.test' };
      m.authorities = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: op === 'add' ? CLASS.IN : CLASS.NONE, ttl: op === 'add' ? 600 : 0, data }];
      return signRequest(m, key, Date.now()).bytes;
    };
    const target = { host: '127.0.0.1', port: dns.port };
    const add = update(1, 'add');
    expect(rcodeName((await exchangeUdp(target, add)).rcode)).toBe('NOERROR');
    expect(await srv(dns.port)).toEqual(['0 0 1688 kms1.lab.test.']);
    // The admin removes the record; a captured copy of the add must not bring it back.
    expect(rcodeName((await exchangeUdp(target, update(2, 'delete'))).rcode)).toBe('NOERROR');
    const before = await serial(dns.port);
    expect(rcodeName((await exchangeUdp(target, add)).rcode)).toBe('REFUSED');
    expect(await srv(dns.port)).toEqual([]);
    expect(await serial(dns.port)).toBe(before);
    await expect.poll(() => dns.logs()).toMatch(/"event":"update-refused".*"reason":"replay"/);
    // nsupdate's own fresh updates still go through.
    expect((await nsupdate(dns.port, `hmac-sha256:admin:${s}`, ['update add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 kms1.lab.test.'])).code).toBe(0);
  });

  test('--config: zones from records and keys with grants, the structured form of the flags', async () => {
    const s = secret();
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-dnscfg-'));
    writeFileSync(join(dir, 'dns.json'), JSON.stringify({
      dataDir: 'data',
      zones: [{ name: 'lab.test', records: ['kms1 600 IN A 127.0.0.11', '_vlmcs._tcp 600 IN SRV 0 0 1688 kms1'] }],
      keys: [{ name: 'kms2', algorithm: 'hmac-sha256', secret: s, grants: ['host=kms2.lab.test'] }],
    }));
    await using dns = await startCliProcess(['dns', 'start', '--config', join(dir, 'dns.json')]);
    expect(await srv(dns.port)).toEqual(['0 0 1688 kms1.lab.test.']);
    expect((await nsupdate(dns.port, `hmac-sha256:kms2:${s}`, ['update add _vlmcs._tcp.lab.test 600 IN SRV 10 0 1688 kms2.lab.test.'])).code).toBe(0);
    expect((await nsupdate(dns.port, `hmac-sha256:kms2:${s}`, ['update delete _vlmcs._tcp.lab.test SRV 0 0 1688 kms1.lab.test.'])).stderr).toMatch(/REFUSED/);
    expect(await srv(dns.port)).toEqual(['0 0 1688 kms1.lab.test.', '10 0 1688 kms2.lab.test.']);
    expect(existsSync(join(dir, 'data', 'lab.test.zone'))).toBe(true);
  });

  test('the default listen address is dual-stack: one port answers on IPv4 and IPv6', async () => {
    await using dns = await startCliProcess(['dns', 'start', '--port', '0', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-'))]);
    expect((await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'SOA'])).status).toBe('NOERROR');
    expect((await dig('dig', '::1', dns.port, ['lab.test', 'SOA', '+tcp'])).status).toBe('NOERROR');
  });
});
