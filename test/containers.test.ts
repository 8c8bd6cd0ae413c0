import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KmsConnection, waitFor } from '@kmslab/core';
import { startKmsLab, type KmsLab } from '@kmslab/testcontainers';
import { startLab } from '@kmslab/testing';
import { requireDockerAndImage, sh } from './support/docker.js';

const WIN7 = 'windows-7-professional';
const SERVER = 'windows-server-2008-r2-enterprise';

/** The documented example's requests against one host: [count, licensed] after each (kms-reference.md "Counting"). */
async function walkthrough(kms: { host: string; port: number }): Promise<Array<[number, boolean]>> {
  const conn = await KmsConnection.connect(kms);
  const activate = async (productId: string, cmid = randomUUID()): Promise<[number, boolean]> => {
    const r = await conn.activate({ cmid, productId, fqdn: `${cmid.slice(0, 8)}.lab.test`, clientTime: Date.now(), kind: 'activation', licenseStatus: 'initial-grace' });
    return [r.count, r.licensed];
  };
  try {
    const counts = [await activate(WIN7), await activate(WIN7)];
    const server = randomUUID();
    counts.push(await activate(SERVER, server));
    for (let i = 0; i < 10; i++) counts.push(await activate(WIN7));
    counts.push(await activate(SERVER, server));
    return counts;
  } finally {
    conn.close();
  }
}

/** Real containers (testcontainers): DNS, Redis, two hosts publishing themselves, client machines on the lab network. */
describe('@kmslab/testcontainers', () => {
  let lab: KmsLab;

  beforeAll(async () => {
    requireDockerAndImage();
    lab = await startKmsLab({
      zone: 'lab.test',
      redis: true,
      hosts: [
        { name: 'kms1', priority: 0, keyGroup: 'windows-server-2008-r2-b' },
        { name: 'kms2', priority: 10, keyGroup: 'windows-server-2008-r2-b' },
      ],
    });
  }, 600_000);

  afterAll(async () => {
    await lab?.stop();
  }, 120_000);

  test('both hosts published themselves into the DNS container with their priorities', async () => {
    const srv = await lab.resolveSrv();
    expect(srv.map((r) => [r.target, r.priority, r.port]).sort()).toEqual([['kms1.lab.test', 0, 1688], ['kms2.lab.test', 10, 1688]]);
    const status = (await (await fetch(`${lab.hosts[0]!.adminUrl}/status`, { headers: lab.hosts[0]!.adminHeaders })).json()) as { store: { kind: string; healthy: boolean }; publishing?: unknown };
    expect(status.store).toMatchObject({ kind: 'redis', healthy: true });
  });

  test('with a local daemon every port the lab publishes (DNS, admin listeners, KMS, password-less Redis) listens on 127.0.0.1 only', () => {
    const ids = sh('docker', ['ps', '-q', '--filter', `network=${lab.network.getName()}`]).trim().split('\n');
    expect(ids).toHaveLength(4);
    const ports = (JSON.parse(sh('docker', ['inspect', ...ids])) as Array<{ NetworkSettings: { Ports: Record<string, Array<{ HostIp: string }> | null> } }>).map((c) => c.NetworkSettings.Ports);
    const bindings = ports.flatMap((p) => Object.entries(p).flatMap(([port, b]) => (b ?? []).map((x) => `${port} ${x.HostIp}`)));
    expect(bindings).toHaveLength(7);
    expect(bindings.filter((b) => !b.endsWith(' 127.0.0.1'))).toEqual([]);
  });

  test("no secret is on a container's command line (the Docker host's ps shows it to every user): TSIG keys and admin tokens go in the environment", () => {
    const ids = sh('docker', ['ps', '-q', '--filter', `network=${lab.network.getName()}`]).trim().split('\n');
    const configs = (JSON.parse(sh('docker', ['inspect', ...ids])) as Array<{ Config: { Cmd: string[] | null; Env: string[] } }>).map((c) => c.Config);
    const commands = configs.map((c) => (c.Cmd ?? []).join(' ')).join('\n');
    expect(commands).toMatch(/dns start/);
    expect(commands).not.toMatch(/--tsig-key|--admin-token|hmac-sha256/);
    const env = configs.flatMap((c) => c.Env);
    expect(env.filter((e) => e.startsWith('KMSLAB_TSIG_KEY=')).length).toBe(3);
    expect(env.some((e) => e === `KMSLAB_ADMIN_TOKEN=${lab.hosts[0]!.container.adminToken}`)).toBe(true);
  });

  test('the reference walkthrough through the host container: 2, 3, 13, the server licensed at its next contact — the same counts as the in-process lab of @kmslab/testing', { timeout: 60_000 }, async () => {
    const inContainer = await walkthrough(lab.hosts[0]!.kms);
    expect(inContainer.slice(1, 3)).toEqual([[2, false], [3, false]]);
    expect(inContainer.slice(-2)).toEqual([[13, false], [13, true]]);
    await using inProcess = await startLab({ hosts: [{ name: 'kms1', keyGroup: 'windows-server-2008-r2-b' }] });
    expect(await walkthrough(inProcess.hosts[0]!.address)).toEqual(inContainer);
  });

  test("the DNS container's test harness: a SERVFAIL fault reaches a client container as 0x8007232A, the query log holds its lookup; cleared, it activates", { timeout: 180_000 }, async () => {
    const client = await lab.startClient();
    const id = await lab.dns.addFault({ name: '_vlmcs._tcp.lab.test', type: 'SRV', action: 'servfail' });
    expect(id).toBe('1');
    const failed = await client.activate(WIN7);
    expect(failed).toMatchObject({ licensed: false, errorCode: '0x8007232A' });
    const seen = await lab.dns.waitForQuery('_vlmcs._tcp.lab.test', 'SRV');
    expect(seen).toMatchObject({ transport: 'udp', rcode: 'SERVFAIL', fault: { id: '1', action: 'servfail' } });
    const logged = await lab.dns.queries({ name: '_vlmcs._tcp.lab.test', type: 'SRV' });
    expect(logged.some((q) => q.rcode === 'SERVFAIL' && q.client.address !== '127.0.0.1')).toBe(true);
    await lab.dns.clearFaults();
    expect(await client.activate(WIN7)).toMatchObject({ discoveredBy: 'dns', host: 'kms1.lab.test:1688' });
  });

  test('a client container finds the priority-0 host by SRV only; with it stopped, the client fails over to priority 10', { timeout: 180_000 }, async () => {
    const client = await lab.startClient();
    const first = await client.activate(WIN7);
    expect(first).toMatchObject({ discoveredBy: 'dns', host: 'kms1.lab.test:1688', errorCode: '0xC004F038' });
    await lab.hosts[0]!.container.stop({ timeout: 5_000 });
    const second = await client.activate(WIN7);
    expect(second).toMatchObject({ discoveredBy: 'dns', host: 'kms2.lab.test:1688' });
    expect(second.count).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(second.tried)).toMatch(/kms1\.lab\.test|cache/);
  });
});

describe('@kmslab/testcontainers: the DNS container as a secure zone', () => {
  test('withSecureZone: a second key is REFUSED on the first key\'s SRV name until grant() grants its group', { timeout: 180_000 }, async () => {
    requireDockerAndImage();
    const { KmsLabDnsContainer } = await import('@kmslab/testcontainers');
    const { run, dig } = await import('./support/dns-tools.js');
    const s1 = Buffer.from(randomUUID()).toString('base64');
    const s2 = Buffer.from(randomUUID()).toString('base64');
    await using dns = await new KmsLabDnsContainer().withZone('lab.test').withSecureZone().withTsigKey(`kms1:hmac-sha256:${s1}`).withTsigKey(`kms2:hmac-sha256:${s2}`).start();
    const { host, port } = dns.target;
    // nsupdate -v: over TCP, the port the container publishes.
    const add = (key: string, secret: string, target: string) => run('nsupdate', ['-v', '-y', `hmac-sha256:${key}:${secret}`], `server ${host} ${port}\nupdate add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 ${target}.\nsend\n`);
    expect((await add('kms1', s1, 'kms1.lab.test')).code).toBe(0);
    const refused = await add('kms2', s2, 'kms2.lab.test');
    expect(refused.stdout + refused.stderr).toMatch(/update failed: REFUSED/);
    const state = await dns.grant({ groups: { 'kms-hosts': ['kms1', 'kms2'] }, grants: { '_vlmcs._tcp.lab.test': ['kms-hosts'] } });
    expect(state.owners).toContainEqual(expect.objectContaining({ name: '_vlmcs._tcp.lab.test', owner: 'kms1', grantedTo: ['kms-hosts'] }));
    expect((await add('kms2', s2, 'kms2.lab.test')).code).toBe(0);
    expect((await dig('dig', host, port, ['+tcp', '_vlmcs._tcp.lab.test', 'SRV'])).answer).toHaveLength(2);
  });

  test('withNotify and withSecondaryOf: a secondary container follows the primary container on their network, by NOTIFY and IXFR', { timeout: 180_000 }, async () => {
    requireDockerAndImage();
    const { KmsLabDnsContainer } = await import('@kmslab/testcontainers');
    const { Network } = await import('testcontainers');
    const { run, dig } = await import('./support/dns-tools.js');
    const secret = Buffer.from(randomUUID()).toString('base64');
    const network = await new Network().start();
    try {
      await using primary = await new KmsLabDnsContainer().withNetwork(network).withNetworkAliases('dns1').withTsigKey(`admin:hmac-sha256:${secret}`).withNotify('dns2').withAllowTransfer('0.0.0.0/0').start();
      await using secondary = await new KmsLabDnsContainer().withNetwork(network).withNetworkAliases('dns2').withSecondaryOf('dns1').start();
      expect(await secondary.serial()).toBe(await primary.serial());
      const { host, port } = primary.target;
      const add = await run('nsupdate', ['-v', '-y', `hmac-sha256:admin:${secret}`], `server ${host} ${port}\nupdate add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 kms1.lab.test.\nsend\n`);
      expect(add.code, add.stderr).toBe(0);
      const serial = await primary.serial();
      await waitFor(async () => (await secondary.serial()) === serial, { timeoutMs: 20_000, everyMs: 100, timedOut: () => new Error('the secondary container never took the change') });
      expect((await dig('dig', secondary.target.host, secondary.target.port, ['+tcp', '_vlmcs._tcp.lab.test', 'SRV'])).answer).toEqual([expect.stringMatching(/SRV 0 0 1688 kms1\.lab\.test\.$/)]);
      // Told by the primary's NOTIFY (its SOA refresh is an hour away), and only the change came.
      // JSON logs are written in batches: the line is there within the second.
      const told = /"event":"secondary-transferred".*"reason":"notify","how":"IXFR".*"records":1[,}]/;
      await waitFor(() => told.test(sh('docker', ['logs', secondary.getId()])), { timeoutMs: 10_000, everyMs: 250, timedOut: () => new Error(`no IXFR on NOTIFY in the secondary's log:\n${sh('docker', ['logs', '--tail', '20', secondary.getId()])}`) });
    } finally {
      await network.stop();
    }
  });
});
