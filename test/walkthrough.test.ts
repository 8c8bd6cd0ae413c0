import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redisForTest } from './support/redis-server.js';
import { startHost, TestClient, type StoreKind } from './support/kms-host.js';

const WIN7 = 'windows-7-professional';
const SERVER = 'windows-server-2008-r2-enterprise';

let redis: { url: string } & AsyncDisposable;
beforeAll(async () => {
  redis = await redisForTest();
});
afterAll(async () => {
  await redis?.[Symbol.asyncDispose]();
});

describe.each<StoreKind>(['memory', 'redis'])('reference walkthrough over TCP, %s store', (kind) => {
  test('KMS "Counting" worked example: counts 2, 3, 13; server activates at 13; Windows 7 at 25', async () => {
    const store = kind === 'memory' ? { kind } : { kind, url: redis.url };
    await using host = await startHost(store as never, { hostId: `walk-${kind}-${Date.now()}`, keyGroup: 'windows-server-2008-r2-b' });
    await using client = await TestClient.connect(host.port);

    // Two Windows 7 request → count 2, not activated.
    for (const expected of [1, 2]) {
      const r = await client.activate(WIN7);
      expect(r).toMatchObject({ count: expected, threshold: 25, licensed: false, errorCode: '0xC004F038', family: 'windows' });
    }
    // A Windows Server 2008 R2 requests → count 3 < 5, not activated.
    const serverCmid = crypto.randomUUID();
    expect(await client.activate(SERVER, serverCmid)).toMatchObject({ count: 3, threshold: 5, licensed: false, errorCode: '0xC004F038' });
    // Ten more Windows 7 → count 13.
    const win7Cmids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const cmid = crypto.randomUUID();
      win7Cmids.push(cmid);
      expect((await client.activate(WIN7, cmid)).count).toBe(4 + i);
    }
    // The server activates on its next contact; the count stays 13 (a repeat CMID never adds).
    const again = await client.activate(SERVER, serverCmid);
    expect(again).toMatchObject({ count: 13, licensed: true, errorCode: null, threshold: 5, validityMin: 180 * 24 * 60 });
    // A Windows 7 machine contacting again: still 13 < 25, 12 more distinct clients needed.
    const win7Again = await client.activate(WIN7, win7Cmids[0]);
    expect(win7Again).toMatchObject({ count: 13, licensed: false, errorCode: '0xC004F038' });
    expect(win7Again.threshold - win7Again.count).toBe(12);
    // Twelve more distinct clients → 25: Windows 7 activates.
    let last;
    for (let i = 0; i < 12; i++) last = await client.activate(WIN7);
    expect(last).toMatchObject({ count: 25, licensed: true, errorCode: null });
    expect(await client.activate(WIN7, win7Cmids[1])).toMatchObject({ count: 25, licensed: true });

    const status = await host.status();
    expect(status.families.windows).toMatchObject({ currentCount: 25, totalRequests: 28 });
    // Failed = every answer below the threshold: 2 + 1 + 10 + 1 (the repeat Win7) + the first 11 of the last 12.
    expect(status.families.windows!.failedRequests).toBe(25);
  });
});
