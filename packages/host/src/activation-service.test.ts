import { ACTIVATION_VALIDITY_MS, MAX_CLOCK_SKEW_MS, TIME, type ActivationRequest } from '@kmslab/core';
import { describe, expect, test } from 'vitest';
import { ActivationService } from './activation-service.js';
import { resolveHostOptions } from './host-options.js';
import { HostMetrics } from './metrics.js';
import { MemoryStore } from './store/memory-store.js';
import type { ActivationStore } from './store/store.js';

const NOW = Date.UTC(2026, 11, 5, 12);
const SERVER = 'windows-server-2016-standard'; // threshold 5 (kms-reference.md "Counting")

async function service(o: { store?: ActivationStore; licensePacks?: string[] } = {}) {
  const store = o.store ?? (await MemoryStore.open());
  const options = resolveHostOptions({ hostId: 'kms-test', store, clock: { now: () => NOW }, licensePacks: o.licensePacks ?? [] });
  return { store, svc: new ActivationService(options, new HostMetrics('kms-test', async () => ({ stats: {}, healthy: true }))) };
}

const request = (cmid: string, o: Partial<ActivationRequest> = {}): ActivationRequest => ({ cmid, productId: SERVER, fqdn: `${cmid}.lab.test`, clientTime: NOW, kind: 'activation', licenseStatus: 'initial-grace', ...o });

describe('activation service: the counting rules where they live', () => {
  test('below the threshold 0xC004F038 with the count; at it licensed for 180 days, on the host\'s intervals', async () => {
    const { svc } = await service();
    for (let i = 1; i <= 4; i++) expect(await svc.handle(request(`c${i}`), 'peer')).toMatchObject({ licensed: false, errorCode: '0xC004F038', count: i, threshold: 5, validityMin: 0 });
    const fifth = await svc.handle(request('c5'), 'peer');
    expect(fifth).toMatchObject({ licensed: true, errorCode: null, count: 5, hostId: 'kms-test', hostTime: NOW, activationIntervalMin: 120, renewalIntervalMin: 10_080 });
    expect(fifth.validityMin).toBe(ACTIVATION_VALIDITY_MS / TIME.MINUTE_MS);
  });

  test('the same machine again is not a new client: the count stays', async () => {
    const { svc } = await service();
    await svc.handle(request('same'), 'peer');
    expect((await svc.handle(request('same', { kind: 'renewal' }), 'peer')).count).toBe(1);
  });

  test('a client more than 4 hours off the host\'s time is refused with 0xC004F06C; 4 hours exactly is within', async () => {
    const { svc } = await service();
    await expect(svc.handle(request('late', { clientTime: NOW - MAX_CLOCK_SKEW_MS - 1 }), 'peer')).rejects.toMatchObject({ code: '0xC004F06C' });
    expect((await svc.handle(request('edge', { clientTime: NOW + MAX_CLOCK_SKEW_MS }), 'peer')).count).toBe(1);
  });

  test('a product the key group and license packs do not cover is 0xC004F042 and not counted; with the pack it is', async () => {
    const office = 'office-2010-professional-plus';
    const without = await service();
    await expect(without.svc.handle(request('o1', { productId: office }), 'peer')).rejects.toMatchObject({ code: '0xC004F042' });
    expect((await without.store.stats(['office2010'], NOW)).office2010).toMatchObject({ currentCount: 0, failedRequests: 1 });
    const withPack = await service({ licensePacks: ['office-2010'] });
    expect(await withPack.svc.handle(request('o1', { productId: office }), 'peer')).toMatchObject({ count: 1, family: 'office2010' });
  });

  test('an unknown product is KMSLAB_UNKNOWN_PRODUCT; a store that fails is KMSLAB_HOST_UNAVAILABLE, and nothing is answered as counted', async () => {
    const { svc } = await service();
    await expect(svc.handle(request('x', { productId: 'windows-99' }), 'peer')).rejects.toMatchObject({ code: 'KMSLAB_UNKNOWN_PRODUCT' });
    const store = await MemoryStore.open();
    const failing = Object.assign(Object.create(store) as ActivationStore, { record: () => Promise.reject(new Error('disk gone')) });
    const broken = await service({ store: failing });
    await expect(broken.svc.handle(request('y'), 'peer')).rejects.toMatchObject({ code: 'KMSLAB_HOST_UNAVAILABLE' });
    expect(broken.svc.recent.requests()[0]).toMatchObject({ cmid: 'y', answer: 'KMSLAB_HOST_UNAVAILABLE', count: null });
  });
});
