import { TIME } from '@kmslab/core';
import type { DnsServer } from '@kmslab/dns';
import type { HostService } from '@kmslab/host';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activateOnce } from './activate.js';
import { newClientState } from './client-state.js';
import { startClientLab } from './lab.fixture.js';

// A real host and a real DNS server on loopback; the clients' clock is the test's.
const NOW = Date.UTC(2026, 11, 5, 12);
const clock = { now: () => NOW };
let dns: DnsServer;
let kms: HostService;
let lab: AsyncDisposable;
beforeAll(async () => {
  ({ dns, kms, ...lab } = await startClientLab({ clock, emptyZones: ['empty.test'] }));
});
afterAll(() => lab[Symbol.asyncDispose]());

const attempt = (state = newClientState(), domains = ['lab.test']) =>
  activateOnce({ state, productId: 'windows-10-enterprise', clock, dns: { host: '127.0.0.1', port: dns.port }, domains, random: () => 0, connectTimeoutMs: 500 }).then((outcome) => ({ outcome, state }));

describe('one activation attempt (kms-reference.md "Discovery", "Client timing")', () => {
  test('found by SRV: the host answers, the client caches it and takes its intervals; the next contact is one activation interval away', async () => {
    const { outcome, state } = await attempt();
    expect(outcome).toMatchObject({ discoveredBy: 'dns', host: `kms1.lab.test:${kms.host.port}`, errorCode: '0xC004F038', response: { count: 1, threshold: 25 } });
    expect(state).toMatchObject({ cachedHost: `127.0.0.1:${kms.host.port}`, cachedHostName: `kms1.lab.test:${kms.host.port}`, activationIntervalMin: 120 });
    expect(Date.parse(state.nextContactAt!)).toBe(NOW + 120 * TIME.MINUTE_MS);
  });

  test('the cached host is tried first', async () => {
    const { state } = await attempt();
    const again = await attempt(state, []);
    expect(again.outcome).toMatchObject({ discoveredBy: 'cache', response: { count: 2 } });
  });

  test('DNS gives no host: its code is the outcome (no exception), and the next contact is still scheduled', async () => {
    const { outcome, state } = await attempt(newClientState(), ['empty.test']);
    expect(outcome).toMatchObject({ errorCode: '0x8007232B', response: null, host: null });
    expect(Date.parse(state.nextContactAt!)).toBe(NOW + 120 * TIME.MINUTE_MS);
  });

  test('no host answers: 0xC004F074, naming what was tried', async () => {
    const state = { ...newClientState(), manualHost: '127.0.0.1:1' };
    const { outcome } = await attempt(state);
    expect(outcome).toMatchObject({ errorCode: '0xC004F074', tried: [expect.objectContaining({ host: '127.0.0.1:1', discoveredBy: 'manual' })] });
    expect(outcome.message).toMatch(/tried 127\.0\.0\.1:1 \(manual\)/);
  });
});
