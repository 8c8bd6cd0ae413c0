import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KmsLabError, TIME, VirtualClock } from '@kmslab/core';
import { redisForTest } from './support/redis-server.js';
import { startHost, TestClient, type StoreKind } from './support/kms-host.js';

let redis: { url: string } & AsyncDisposable;
beforeAll(async () => {
  redis = await redisForTest();
});
afterAll(async () => {
  await redis?.[Symbol.asyncDispose]();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(KmsLabError);
  return (err as KmsLabError).code;
}

describe.each<StoreKind>(['memory', 'redis'])('KMS host rules, %s store', (kind) => {
  let n = 0;
  const host = (options: Parameters<typeof startHost>[1] = {}) =>
    startHost(kind === 'memory' ? { kind } : { kind, url: redis.url }, { hostId: `rules-${kind}-${process.pid}-${++n}`, ...options });

  test('key groups: a client-OS host key refuses a server product with 0xC004F042 and counts client OS', async () => {
    await using h = await host({ keyGroup: 'windows-7' });
    await using c = await TestClient.connect(h.port);
    expect(await refusal(c.activate('windows-server-2008-r2-standard'))).toBe('0xC004F042');
    expect(await c.activate('windows-7-enterprise')).toMatchObject({ count: 1, licensed: false });
    expect(await c.activate('windows-vista-business')).toMatchObject({ count: 2 }); // a newer key covers the previous generation
    expect(await refusal(c.activate('windows-10-pro'))).toBe('0xC004F042'); // but not a newer one
    const s = await h.status();
    expect(s.families.windows).toMatchObject({ currentCount: 2, totalRequests: 4, failedRequests: 4 });
  });

  test('key groups: a group B host key activates groups A and B and client OS, not group C', async () => {
    await using h = await host({ keyGroup: 'KMSLAB-HOST-WS2008R2-B' }); // by lab key
    await using c = await TestClient.connect(h.port);
    for (const p of ['windows-web-server-2008-r2', 'windows-server-2008-r2-standard', 'windows-server-2008-enterprise', 'windows-7-professional']) {
      expect((await c.activate(p)).family).toBe('windows');
    }
    expect(await refusal(c.activate('windows-server-2008-r2-datacenter'))).toBe('0xC004F042');
  });

  test('license packs: Office 2013 is refused until its pack is installed, and keeps its own count', async () => {
    {
      await using h = await host();
      await using c = await TestClient.connect(h.port);
      expect(await refusal(c.activate('office-2013-professional-plus'))).toBe('0xC004F042');
    }
    await using h = await host({ licensePacks: ['office-2013'] });
    await using c = await TestClient.connect(h.port);
    for (let i = 1; i <= 3; i++) expect((await c.activate('windows-7-professional')).count).toBe(i);
    expect(await c.activate('office-2013-professional-plus')).toMatchObject({ family: 'office2013', count: 1, threshold: 5 });
    expect(await refusal(c.activate('office-2010-professional-plus'))).toBe('0xC004F042');
    const s = await h.status();
    expect(s.families.windows!.currentCount).toBe(3);
    expect(s.families.office2013!.currentCount).toBe(1);
    expect(s.families.office2010!.totalRequests).toBe(1);
  });

  test('KMS "Counting": a record not renewed within 30 days no longer counts (virtual clock)', async () => {
    const clock = new VirtualClock();
    await using h = await host({ clock });
    await using c = await TestClient.connect(h.port, clock);
    for (let i = 1; i <= 5; i++) expect((await c.activate('windows-10-pro')).count).toBe(i);
    clock.advance(29 * TIME.DAY_MS);
    const renewed = randomUUID();
    expect((await c.activate('windows-10-pro', renewed)).count).toBe(6);
    clock.advance(2 * TIME.DAY_MS); // the first five are now 31 days old
    expect((await c.activate('windows-10-pro')).count).toBe(2);
    expect((await h.status()).families.windows!.currentCount).toBe(2);
    clock.advance(30 * TIME.DAY_MS + 1);
    expect((await h.status()).families.windows!.currentCount).toBe(0);
  });

  test('KMS "Counting": the count never exceeds 50 and the 51st client evicts the oldest record', async () => {
    const clock = new VirtualClock();
    await using h = await host({ clock });
    await using c = await TestClient.connect(h.port, clock);
    const cmids = Array.from({ length: 51 }, () => randomUUID());
    for (const [i, cmid] of cmids.entries()) {
      clock.advance(TIME.MINUTE_MS);
      expect((await c.activate('windows-7-professional', cmid)).count).toBe(Math.min(i + 1, 50));
    }
    // Clients 2..51 remain (times t+2..t+51 min). At t+30 d+25.5 min the records
    // older than t+25.5 min have aged out: 26..51 remain, 26 records. Had the
    // newest been dropped instead of the oldest, 25 would remain.
    clock.advance(30 * TIME.DAY_MS - 25.5 * TIME.MINUTE_MS);
    expect((await h.status()).families.windows!.currentCount).toBe(26);
  });

  test('KMS "Client timing": a request 5 h off the host clock is refused with 0xC004F06C, 3 h is accepted', async () => {
    const clock = new VirtualClock();
    await using h = await host({ clock });
    await using c = await TestClient.connect(h.port, clock);
    expect(await refusal(c.activate('windows-7-professional', undefined, { clientTime: clock.now() + 5 * 3_600_000 }))).toBe('0xC004F06C');
    expect(await refusal(c.activate('windows-7-professional', undefined, { clientTime: clock.now() - 5 * 3_600_000 }))).toBe('0xC004F06C');
    expect((await c.activate('windows-7-professional', undefined, { clientTime: clock.now() - 3 * 3_600_000 })).count).toBe(1);
  });

  test('an unknown product id gets KMSLAB_UNKNOWN_PRODUCT and the connection keeps working', async () => {
    await using h = await host();
    await using c = await TestClient.connect(h.port);
    expect(await refusal(c.activate('windows-99-ultimate'))).toBe('KMSLAB_UNKNOWN_PRODUCT');
    expect((await c.activate('windows-7-professional')).count).toBe(1);
  });

  test('requests are counted by the license status the client reports', async () => {
    await using h = await host();
    await using c = await TestClient.connect(h.port);
    await c.activate('windows-7-professional', undefined, { licenseStatus: 'notification' });
    await c.activate('windows-7-professional', undefined, { licenseStatus: 'licensed', kind: 'renewal' });
    await c.activate('windows-7-professional', undefined, { licenseStatus: 'licensed', kind: 'renewal' });
    const byStatus = (await h.status()).families.windows!.requestsByStatus;
    expect(byStatus).toMatchObject({ notification: 1, licensed: 2, unlicensed: 0, 'initial-grace': 0 });
  });
});
