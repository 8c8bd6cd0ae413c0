import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KmsLabError, waitFor } from '@kmslab/core';
import { RedisServer } from './support/redis-server.js';
import { startHost, tempDir, TestClient } from './support/kms-host.js';
import { startCliHost } from './support/cli.js';
import { HoldProxy } from './support/hold-proxy.js';

describe('memory store persistence', () => {
  test('a restarted host keeps its counts and statistics (snapshot on close)', async () => {
    await using dir = tempDir();
    {
      await using h = await startHost({ kind: 'memory', dataDir: dir.path });
      await using c = await TestClient.connect(h.port);
      for (let i = 0; i < 7; i++) await c.activate('windows-7-professional');
    }
    await using h = await startHost({ kind: 'memory', dataDir: dir.path });
    await using c = await TestClient.connect(h.port);
    expect((await c.activate('windows-7-professional')).count).toBe(8);
    expect((await h.status()).families.windows).toMatchObject({ currentCount: 8, totalRequests: 8, failedRequests: 8 });
  });

  test('a host killed with SIGKILL loses no acknowledged client (write-ahead journal)', async () => {
    await using dir = tempDir();
    const dataDir = join(dir.path, 'data');
    const first = await startCliHost(['--data-dir', dataDir]);
    const acknowledged: string[] = [];
    {
      await using c = await TestClient.connect(first.port);
      for (let i = 0; i < 20; i++) {
        const cmid = randomUUID();
        await c.activate('windows-10-enterprise', cmid);
        acknowledged.push(cmid);
      }
    }
    first.proc.kill('SIGKILL');
    await first.exited;
    await using second = await startCliHost(['--data-dir', dataDir]);
    await using c = await TestClient.connect(second.port);
    // Every acknowledged client is still a record: repeats do not raise the count.
    for (const cmid of acknowledged) expect((await c.activate('windows-10-enterprise', cmid)).count).toBe(20);
  });
});

describe('Redis store shared by host processes', () => {
  test('two hosts with the same host id on one Redis share one count', async () => {
    await using redis = await RedisServer.start();
    await using a = await startHost({ kind: 'redis', url: redis.url }, { hostId: 'shared' });
    await using b = await startHost({ kind: 'redis', url: redis.url }, { hostId: 'shared' });
    await using ca = await TestClient.connect(a.port);
    await using cb = await TestClient.connect(b.port);
    const counts: number[] = [];
    for (let i = 0; i < 10; i++) counts.push((await (i % 2 ? cb : ca).activate('windows-7-professional')).count);
    expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Concurrent requests on both hosts: no lost or double-counted client.
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? cb : ca).activate('windows-7-professional')));
    expect(burst.map((r) => r.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => Math.min(11 + i, 50)));
    expect((await a.status()).families.windows!.currentCount).toBe(50);
    expect((await b.status()).families.windows!.totalRequests).toBe(50);
  });

  test('different host ids on one Redis never share a count', async () => {
    await using redis = await RedisServer.start();
    await using a = await startHost({ kind: 'redis', url: redis.url }, { hostId: 'host-a' });
    await using b = await startHost({ kind: 'redis', url: redis.url }, { hostId: 'host-b' });
    await using ca = await TestClient.connect(a.port);
    await using cb = await TestClient.connect(b.port);
    await ca.activate('windows-7-professional');
    await ca.activate('windows-7-professional');
    expect((await cb.activate('windows-7-professional')).count).toBe(1);
  });
});

describe('Redis outage', () => {
  test('Redis stopped: clients get KMSLAB_HOST_UNAVAILABLE, host stays up; Redis back: service resumes, no acknowledged client lost', async () => {
    await using redis = await RedisServer.start();
    await using h = await startHost({ kind: 'redis', url: redis.url }, { hostId: 'outage' });
    await using c = await TestClient.connect(h.port);
    const acknowledged: string[] = [];
    for (let i = 0; i < 8; i++) {
      const cmid = randomUUID();
      expect((await c.activate('windows-server-2016-standard', cmid)).count).toBe(i + 1);
      acknowledged.push(cmid);
    }
    await redis.stop();
    const err = await c.activate('windows-server-2016-standard').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(KmsLabError);
    expect((err as KmsLabError).code).toBe('KMSLAB_HOST_UNAVAILABLE');
    const health = await fetch(`${h.adminUrl}/healthz`);
    expect(health.status).toBe(503);
    expect((await h.status()).store.healthy).toBe(false);

    await redis.resume();
    // ioredis reconnects in the background; the first requests may still fail.
    const resumed = await waitFor(() => c.activate('windows-server-2016-standard', acknowledged[0]).catch(() => undefined), { timeoutMs: 10_000, everyMs: 100, timedOut: () => new Error('the host did not count again within 10 s of Redis coming back') });
    expect(resumed).toMatchObject({ count: 8, licensed: true });
    for (const cmid of acknowledged) expect((await c.activate('windows-server-2016-standard', cmid)).count).toBe(8);
    expect((await fetch(`${h.adminUrl}/healthz`)).status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM drains an in-flight request before the host exits', async () => {
    await using redis = await RedisServer.start();
    // The host reaches Redis through a proxy the test holds: the request waits there, in flight.
    await using proxy = await HoldProxy.start(redis.port);
    const host = await startCliHost(['--store', 'redis', '--redis-url', `redis://127.0.0.1:${proxy.port}`, '--host-id', 'drain']);
    await using _host = host;
    await using c = await TestClient.connect(host.port);
    proxy.hold();
    const inFlight = c.activate('windows-7-professional');
    await proxy.arrived(/evalsha|eval/i); // the host has the request and waits on its store
    host.proc.kill('SIGTERM');
    proxy.release();
    expect(await inFlight).toMatchObject({ count: 1 });
    expect(await host.exited).toBe(0);
  });
});
