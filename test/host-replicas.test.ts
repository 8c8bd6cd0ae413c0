import { tmpdir } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { HostStatus } from '@kmslab/host';
import { activationLoad } from './support/activation-load.js';
import { startCliProcess } from './support/cli.js';
import { dig } from './support/dns-tools.js';
import { RedisServer } from './support/redis-server.js';

/** One logical KMS host as two processes: same host id, one Redis, each publishing itself. */
describe('host replicas', () => {
  test('two replicas under load share one count exactly, each publishes its own SRV record, /status shows the shared count and its own counters', { timeout: 120_000 }, async () => {
    await using redis = await RedisServer.start();
    const key = (name: string) => `${name}:hmac-sha256:${randomBytes(32).toString('base64')}`;
    const [k1, k2] = [key('r1'), key('r2')];
    await using dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--tsig-key', `${k1}:host=r1.lab.test`, '--tsig-key', `${k2}:host=r2.lab.test`, '--data-dir', `${tmpdir()}/kmslab-replicas-${process.pid}`]);
    const replica = (k: string, fqdn: string) =>
      startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--store', 'redis', '--redis-url', redis.url, '--host-id', 'kms-a',
        '--publish', '--dns', `127.0.0.1:${dns.port}`, '--tsig-key', k, '--fqdn', fqdn, '--advertise-address', '127.0.0.1', '--publish-domain', 'lab.test,0,50']);
    await using r1 = await replica(k1, 'r1.lab.test');
    await using r2 = await replica(k2, 'r2.lab.test');

    const srv = async () => (await dig('dig', '127.0.0.1', dns.port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.map((rr) => rr.split(' ').slice(4).join(' ')).sort();
    await expect.poll(srv, { timeout: 15_000, interval: 100 }).toEqual([`0 50 ${r1.port} r1.lab.test.`, `0 50 ${r2.port} r2.lab.test.`].sort());

    // The same 45 machines hit both replicas at once, 4 connections each.
    const cmids = Array.from({ length: 45 }, () => randomUUID());
    const [a, b] = await Promise.all([r1, r2].map((r) => activationLoad({ port: r.port, product: 'windows-10-enterprise', cmids, connections: 4, durationMs: 4_000, maxRequests: 3_000 })));
    expect([...a!.errors, ...b!.errors]).toEqual([]);
    expect(new Set([...a!.acknowledged.keys(), ...b!.acknowledged.keys()]).size).toBe(45);

    const status = async (r: { adminUrl: string }) => (await (await fetch(`${r.adminUrl}/status`)).json()) as HostStatus;
    const [s1, s2] = [await status(r1), await status(r2)];
    // One count for the logical host: 45 distinct machines, not 90, none missing.
    expect(s1.families.windows!.currentCount).toBe(45);
    expect(s2.families.windows!.currentCount).toBe(45);
    expect(s1.families.windows!.totalRequests).toBe(a!.requests + b!.requests);
    // Each replica counts what it served itself.
    expect(s1.replica.requestsServed).toBe(a!.requests);
    expect(s2.replica.requestsServed).toBe(b!.requests);
    expect(s1.replica.pid).not.toBe(s2.replica.pid);
  });
});
