import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { KmsEvent } from '@kmslab/core';
import { runCli, startCliProcess } from './support/cli.js';
import { dig, run } from './support/dns-tools.js';
import { eventually, publishingHost } from './support/host-events.js';

/**
 * Secure-only zones as AD-integrated zones are (kms-reference.md "Publishing
 * in Active Directory DNS"): through the CLI, with real publishing hosts,
 * dig and nsupdate — the second host refused until a group of KMS hosts is
 * granted on the SRV name, and owners and grants kept across a restart.
 */
const tmp = () => mkdtempSync(join(tmpdir(), 'kmslab-secure-'));
const secret = () => randomBytes(32).toString('base64');
const refused = (e: KmsEvent) => e.id === 12293;
const published = (e: KmsEvent) => e.id === 12294;

describe('secure zones: record ownership as in Active Directory', () => {
  test('kms1 owns _vlmcs._tcp; kms2 is refused (12293 REFUSED, not-owner in the query log) until kmslab dns grant; owners and grants survive a restart', async () => {
    const [s1, s2, s3, sx] = [secret(), secret(), secret(), secret()];
    const data = tmp();
    const dnsArgs = (port: string) => [
      'dns', 'start', '--listen', '127.0.0.1', '--port', port, '--data-dir', data, '--admin', '127.0.0.1:0', '--secure-zone', 'lab.test',
      '--tsig-key', `kms1:hmac-sha256:${s1}:host=kms1.lab.test`, '--tsig-key', `kms2:hmac-sha256:${s2}:host=kms2.lab.test`,
      '--tsig-key', `kms3:hmac-sha256:${s3}:host=kms3.lab.test`, '--tsig-key', `xfr:hmac-sha256:${sx}:transfer`,
    ];
    let port: number;
    {
      await using dns = await startCliProcess(dnsArgs('0'));
      port = dns.port;
      await using kms1 = await publishingHost(dns.port, `kms1:hmac-sha256:${s1}`, 'kms1.lab.test');
      await eventually(kms1.adminUrl, '12294', published);
      await using kms2 = await publishingHost(dns.port, `kms2:hmac-sha256:${s2}`, 'kms2.lab.test');
      expect((await eventually(kms2.adminUrl, '12293', refused)).find(refused)).toMatchObject({ dnsError: 'REFUSED', hresult: '0x8007232D', domain: 'lab.test' });
      const log = await runCli(['dns', 'queries', '--admin', dns.adminUrl, '--json']);
      expect((JSON.parse(log.stdout) as Array<{ kind: string; key: string; rcode: string; reason?: string }>).find((e) => e.kind === 'update' && e.key === 'kms2')).toMatchObject({ rcode: 'REFUSED', reason: 'not-owner' });
      expect((await dig('dig', '127.0.0.1', dns.port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.map((l) => l.split(' ').at(-1))).toEqual(['kms1.lab.test.']);

      // The admin grants the group of KMS hosts on the SRV name; kms2's next retry gets through.
      const granted = await runCli(['dns', 'grant', '--admin', dns.adminUrl, '--group', 'kms-hosts=kms1,kms2', '--grant', '_vlmcs._tcp.lab.test=kms-hosts']);
      expect(granted.stdout).toContain('grant on _vlmcs._tcp.lab.test: kms-hosts');
      await eventually(kms2.adminUrl, '12294', published);
      expect((await dig('dig', '127.0.0.1', dns.port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.map((l) => l.split(' ').at(-1)).sort()).toEqual(['kms1.lab.test.', 'kms2.lab.test.']);
      const records = await runCli(['dns', 'records', '--dns', `127.0.0.1:${dns.port}`, '--tsig-key', `xfr:hmac-sha256:${sx}`, '--owners', '--admin', dns.adminUrl]);
      expect(records.stdout).toMatch(/^_vlmcs\._tcp\.lab\.test\. +\d+ +SRV +0 0 \d+ kms1\.lab\.test\. +kms1 +kms-hosts$/m);
      expect(records.stdout).toMatch(/^kms2\.lab\.test\. +\d+ +A +127\.0\.0\.1 +kms2 +-$/m);
    }
    // Restarted on the same data dir (no --group or --grant this time): owners and grants come back.
    await using again = await startCliProcess(dnsArgs(String(port)));
    const grants = JSON.parse((await runCli(['dns', 'grant', '--admin', again.adminUrl, '--json'])).stdout) as { groups: object; owners: Array<{ name: string; owner: string }> };
    expect(grants.groups).toEqual({ 'kms-hosts': ['kms1', 'kms2'] });
    expect(grants.owners).toContainEqual(expect.objectContaining({ name: '_vlmcs._tcp.lab.test', owner: 'kms1' }));
    expect(readFileSync(join(data, 'lab.test.zone'), 'utf8')).toContain(';kmslab-owner _vlmcs._tcp.lab.test kms1');
    // A key outside the group, by nsupdate: still refused.
    const nsupdate = await run('nsupdate', ['-y', `hmac-sha256:kms3:${s3}`], `server 127.0.0.1 ${again.port}\nupdate add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 kms3.lab.test.\nsend\n`);
    expect(nsupdate.stdout + nsupdate.stderr).toMatch(/update failed: REFUSED/);
  });

  test('the config file holds secure zones, groups and grants; a wrong shape is one line before anything listens', async () => {
    const dir = tmp();
    const s1 = secret();
    const good = join(dir, 'dns.json');
    writeFileSync(good, JSON.stringify({
      zones: [{ name: 'lab.test' }], secureZones: ['lab.test'], groups: { 'kms-hosts': ['kms1'] }, grants: { '_vlmcs._tcp.lab.test': ['kms-hosts'] },
      keys: [{ name: 'kms1', secret: s1, grants: ['host=kms1.lab.test'] }],
    }));
    {
      await using dns = await startCliProcess(['dns', 'start', '--listen', '127.0.0.1', '--port', '0', '--config', good, '--data-dir', join(dir, 'data'), '--admin', '127.0.0.1:0']);
      const state = JSON.parse((await runCli(['dns', 'grant', '--admin', dns.adminUrl, '--json'])).stdout) as object;
      expect(state).toMatchObject({ secureZones: ['lab.test'], groups: { 'kms-hosts': ['kms1'] }, grants: { '_vlmcs._tcp.lab.test': ['kms-hosts'] } });
    }
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ zones: [{ name: 'lab.test' }], groups: ['kms1'] }));
    const r = await runCli(['dns', 'start', '--port', '0', '--config', bad, '--data-dir', join(dir, 'bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmslab: .*bad\.json: groups: must map each group to its keys.*\(KMSLAB_INVALID_ARGUMENT\)\n$/);
    const notServed = await runCli(['dns', 'start', '--port', '0', '--zone', 'lab.test', '--secure-zone', 'corp.test', '--data-dir', join(dir, 'ns')]);
    expect(notServed.stderr).toMatch(/^kmslab: --secure-zone corp\.test: this server does not serve that zone .*\(KMSLAB_INVALID_ARGUMENT\)\n$/);
    const badGroup = await runCli(['dns', 'start', '--port', '0', '--group', 'kms-hosts', '--data-dir', join(dir, 'bg')]);
    expect(badGroup.stderr).toMatch(/^kmslab: --group "kms-hosts": must be NAME=KEY/);
  });
});
