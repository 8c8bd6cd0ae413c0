import type { HostStatus } from '@kmslab/host';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { dig } from './support/dns-tools.js';
import { startCliProcess } from './support/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'kmslab-pub-'));

async function srv(port: number, domain = 'lab.test'): Promise<string[]> {
  return (await dig('dig', '127.0.0.1', port, [`_vlmcs._tcp.${domain}`, 'SRV'])).answer.map((l) => l.split(' ').slice(4).join(' ')).sort();
}

function publishArgs(dnsPort: number, key: string, fqdn: string, ...domains: string[]) {
  return ['--data-dir', tmp(), '--publish', '--dns', `127.0.0.1:${dnsPort}`, '--tsig-key', key, '--fqdn', fqdn, '--advertise-address', '127.0.0.1', ...domains.flatMap((d) => ['--publish-domain', d])];
}

describe('host DNS publishing (RFC 2136 with TSIG, like a KMS host with a publish list)', () => {
  test('two hosts register SRV records with their priorities and addresses; a stopped host deregisters only itself', async () => {
    const s1 = randomBytes(32).toString('base64');
    const s2 = randomBytes(32).toString('base64');
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', tmp(), '--tsig-key', `kms1:hmac-sha256:${s1}:host=kms1.lab.test`, '--tsig-key', `kms2:hmac-sha256:${s2}:host=kms2.lab.test`]);
    await using h1 = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--deregister-on-stop', ...publishArgs(dns.port, `kms1:hmac-sha256:${s1}`, 'kms1.lab.test', 'lab.test,0,0')]);
    await using h2 = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', ...publishArgs(dns.port, `kms2:hmac-sha256:${s2}`, 'kms2.lab.test', 'lab.test,10,5')]);
    expect(await srv(dns.port)).toEqual([`0 0 ${h1.port} kms1.lab.test.`, `10 5 ${h2.port} kms2.lab.test.`].sort());
    const addr = await dig('dig', '127.0.0.1', dns.port, ['_vlmcs._tcp.lab.test', 'SRV']);
    expect(addr.additional).toEqual(expect.arrayContaining(['kms1.lab.test. 3600 IN A 127.0.0.1', 'kms2.lab.test. 3600 IN A 127.0.0.1']));
    const status = (await (await fetch(`${h1.adminUrl}/status`)).json()) as HostStatus;
    expect(status).toMatchObject({ dnsPublishing: true, publishing: { fqdn: 'kms1.lab.test', lastError: null } });
    expect(status.publishing?.lastPublished).toBeTruthy();

    h1.proc.kill('SIGTERM');
    expect(await h1.exited).toBe(0);
    expect(await srv(dns.port)).toEqual([`10 5 ${h2.port} kms2.lab.test.`]);
    expect((await dig('dig', '127.0.0.1', dns.port, ['kms1.lab.test', 'A'])).answer).toEqual([]);
  });

  test('a publish list puts the host in several domains, each with its own priority and weight', async () => {
    const s = randomBytes(32).toString('base64');
    const dir = tmp();
    writeFileSync(join(dir, 'dns.json'), JSON.stringify({ zones: [{ name: 'lab.test' }, { name: 'branch.test' }], keys: [{ name: 'kms1', secret: s, grants: ['host=kms1.lab.test'] }] }));
    await using dns = await startCliProcess(['dns', 'start', '--config', join(dir, 'dns.json'), '--data-dir', tmp()]);
    await using host = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', ...publishArgs(dns.port, `kms1:hmac-sha256:${s}`, 'kms1.lab.test', 'lab.test', 'branch.test,20,3')]);
    expect(await srv(dns.port, 'lab.test')).toEqual([`0 0 ${host.port} kms1.lab.test.`]);
    expect(await srv(dns.port, 'branch.test')).toEqual([`20 3 ${host.port} kms1.lab.test.`]);
  });

  test('a wrong key: the host still serves, /status shows the publishing error', async () => {
    const s = randomBytes(32).toString('base64');
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', tmp(), '--tsig-key', `kms1:hmac-sha256:${s}:host=kms1.lab.test`]);
    await using host = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', ...publishArgs(dns.port, `kms1:hmac-sha256:${randomBytes(32).toString('base64')}`, 'kms1.lab.test')]);
    const status = (await (await fetch(`${host.adminUrl}/status`)).json()) as HostStatus;
    expect(status.publishing?.lastError).toMatch(/refused the update of lab\.test: BADSIG/);
    expect(await srv(dns.port)).toEqual([]);
  });
});
