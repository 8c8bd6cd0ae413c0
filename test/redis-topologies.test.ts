import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { RedisServer } from '@kmslab/lab/live';
import { RedisCluster, RedisSentinelSetup } from '@kmslab/test-redis';
import type { HostStatus } from '@kmslab/host';
import { activationLoad } from './support/activation-load.js';
import { startCliHost } from './support/cli.js';
import { TestClient } from './support/kms-host.js';
import { requireRedisServer } from './support/redis-server.js';

const OFFICE = 'office-2013-professional-plus';

/** Counts 2, 3, 13 and the server licensed at its next contact, through whatever store the host has. */
async function walkthrough(port: number): Promise<void> {
  await using c = await TestClient.connect(port);
  await c.activate('windows-7-professional');
  expect(await c.activate('windows-7-professional')).toMatchObject({ count: 2 });
  const server = randomUUID();
  expect(await c.activate('windows-server-2008-r2-enterprise', server)).toMatchObject({ count: 3, licensed: false });
  for (let i = 0; i < 10; i++) await c.activate('windows-7-professional');
  expect(await c.activate('windows-server-2008-r2-enterprise', server)).toMatchObject({ count: 13, licensed: true });
}

async function officeCount(adminUrl: string): Promise<number> {
  const status = (await (await fetch(`${adminUrl}/status`)).json()) as HostStatus;
  return status.families.office2013?.currentCount ?? -1;
}

/**
 * Load on the Office family while the primary that holds its slot dies; 4 s
 * later the dead server comes back (as a replica of the promoted one).
 * Requests resume, and with --durability replica every client the host
 * acknowledged is still in the store. (With replica durability a primary
 * without a replica cannot acknowledge: "host unavailable" until one is back.)
 */
async function failoverUnderLoad(host: { port: number; adminUrl: string }, primary: () => Promise<RedisServer>): Promise<void> {
  let back = 0;
  const load = await activationLoad({
    port: host.port, product: OFFICE, clients: 40, connections: 8, durationMs: 24_000, faultAtMs: 2_000,
    fault: async () => {
      const dead = await primary();
      await dead.kill();
      await new Promise((r) => setTimeout(r, 4_000));
      await dead.resume();
      back = Date.now();
    },
  });
  console.error(`failover under load: ${load.requests} requests, errors ${JSON.stringify([...load.errors])}, acknowledged ${load.acknowledgedSince(back + 5_000)} from 5 s after the old primary came back`);
  const unexpected = [...load.errors.keys()].filter((code) => code !== 'KMSLAB_HOST_UNAVAILABLE');
  expect(unexpected, `errors: ${JSON.stringify([...load.errors])}`).toEqual([]);
  expect(load.acknowledged.size).toBe(40);
  // Requests resumed: acknowledgements in the last part of the run.
  expect(load.acknowledgedSince(back + 5_000)).toBeGreaterThan(0);
  expect(await officeCount(host.adminUrl)).toBe(40);
}

describe('Redis Cluster and Sentinel stores (real redis-server processes)', () => {
  test('a 3-primary / 3-replica Redis Cluster: the walkthrough holds; a primary killed under load loses no acknowledged client (--durability replica)', { timeout: 180_000 }, async () => {
    requireRedisServer();
    await using cluster = await RedisCluster.start({ primaries: 3, replicas: 1 });
    await using host = await startCliHost(['--store', 'redis', '--redis-cluster', cluster.seeds, '--host-id', 'kms-c', '--durability', 'replica', '--license-pack', 'office-2013', '--key-group', 'windows-server-2008-r2-b']);
    await walkthrough(host.port);
    await failoverUnderLoad(host, () => cluster.primaryFor('kmslab:{kms-c:office2013}:clients'));
    await cluster.waitUntilHealthy();
    const check = cluster.client();
    try {
      expect(await check.zcard('kmslab:{kms-c:office2013}:clients')).toBe(40);
      expect(await check.zcard('kmslab:{kms-c:windows}:clients')).toBe(13);
    } finally {
      check.disconnect();
    }
  });

  test('Sentinel (1 primary, 1 replica, 3 sentinels): the walkthrough holds; the primary killed under load loses no acknowledged client', { timeout: 180_000 }, async () => {
    requireRedisServer();
    await using setup = await RedisSentinelSetup.start({ replicas: 1, sentinels: 3 });
    await using host = await startCliHost(['--store', 'redis', '--redis-sentinels', setup.sentinelList, '--redis-master-name', setup.name, '--host-id', 'kms-s', '--durability', 'replica', '--license-pack', 'office-2013', '--key-group', 'windows-server-2008-r2-b']);
    await walkthrough(host.port);
    const before = await setup.primary();
    await failoverUnderLoad(host, async () => before);
    expect((await setup.primary()).port).not.toBe(before.port);
  });

  test('a bad topology is one clear line: both cluster and sentinels, or sentinels without a master name', async () => {
    const { runCli } = await import('./support/cli.js');
    const both = await runCli(['host', 'start', '--store', 'redis', '--redis-cluster', '127.0.0.1:7000', '--redis-sentinels', '127.0.0.1:26379']);
    expect(both.stderr).toMatch(/--redis-cluster or --redis-sentinels, not both/);
    const noName = await runCli(['host', 'start', '--store', 'redis', '--redis-sentinels', '127.0.0.1:26379']);
    expect(noName.stderr).toMatch(/--redis-sentinels needs --redis-master-name/);
  });
});
