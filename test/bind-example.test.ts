import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { HostStatus } from '@kmslab/host';
import { runCli, startCliProcess } from './support/cli.js';
import { dig } from './support/dns-tools.js';
import { NamedServer } from './support/named.js';

const conf = readFileSync(new URL('../infra/bind/named.conf.kmslab', import.meta.url), 'utf8');
const secret = (name: string) => new RegExp(`key "${name}" \\{[^}]*secret "([^"]+)"`).exec(conf)![1]!;

/** infra/bind: the shipped BIND example, run in a real named with only its paths and port changed. */
describe('infra/bind example: BIND as the lab DNS', () => {
  test('two kmslab hosts publish into it with their keys, a client discovers kms1; a key cannot publish the other host\'s address', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-bind-example-'));
    copyFileSync(new URL('../infra/bind/lab.test.zone', import.meta.url), join(dir, 'lab.test.zone'));
    await using bind = await NamedServer.start(conf.replaceAll('/var/lib/bind/', `${dir}/`));
    const publish = (key: string, fqdn: string, priority: number) => [
      'host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--data-dir', mkdtempSync(join(dir, 'host-')),
      '--publish', '--dns', `127.0.0.1:${bind.port}`, '--tsig-key', `${key}:hmac-sha256:${secret(key)}`, '--fqdn', fqdn, '--publish-domain', `lab.test,${priority},0`,
    ];
    await using kms1 = await startCliProcess(publish('kms1', 'kms1.lab.test', 0));
    await using kms2 = await startCliProcess(publish('kms2', 'kms2.lab.test', 10));
    const srv = async () => (await dig('dig', '127.0.0.1', bind.port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.map((rr) => rr.split(' ').slice(4).join(' ')).sort();
    await expect.poll(srv, { timeout: 15_000, interval: 100 }).toEqual([`0 0 ${kms1.port} kms1.lab.test.`, `10 0 ${kms2.port} kms2.lab.test.`]);

    const client = await runCli(['client', 'activate', '--product', 'windows-10-enterprise', '--dns', `127.0.0.1:${bind.port}`, '--domain', 'lab.test', '--state-dir', mkdtempSync(join(dir, 'client-')), '--json']);
    expect(JSON.parse(client.stdout)).toMatchObject({ discoveredBy: 'dns', host: `kms1.lab.test:${kms1.port}`, count: 1 });
    // kms2's key may not publish kms1's address: BIND refuses, the host says so in /status. BIND's
    // name grants cannot tie an SRV record to its target, though: the SRV part goes in (kmslab
    // DNS's host= grant refuses that too; infra/bind/README.md says so).
    await using rogue = await startCliProcess(publish('kms2', 'kms1.lab.test', 0));
    const refused = async () => ((await (await fetch(`${rogue.adminUrl}/status`)).json()) as HostStatus).publishing?.lastError ?? '';
    await expect.poll(refused, { timeout: 15_000, interval: 100 }).toMatch(/REFUSED/);
    expect((await dig('dig', '127.0.0.1', bind.port, ['kms1.lab.test', 'A'])).answer).toEqual(['kms1.lab.test. 3600 IN A 127.0.0.1']);
    expect(await srv()).toContain(`0 0 ${rogue.port} kms1.lab.test.`);
  });
});
