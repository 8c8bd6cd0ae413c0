import { TIME } from '@kmslab/core';
import { CLASS, TYPE } from '@kmslab/dns-wire';
import { DnsServer, ZoneSet, defaultZone } from '@kmslab/dns';
import { MemoryStore, startHostService, type HostService } from '@kmslab/host';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activateOnce } from './activate.js';
import { newClientState } from './client-state.js';

// A real host and a real DNS server on loopback; the clients' clock is the test's.
const NOW = Date.UTC(2026, 11, 5, 12);
const clock = { now: () => NOW };
let dns: DnsServer;
let kms: HostService;
beforeAll(async () => {
  kms = await startHostService({ hostId: 'kms1', store: await MemoryStore.open(), clock, listen: ['127.0.0.1'], port: 0, admin: null });
  const zones = new ZoneSet();
  const lab = defaultZone('lab.test');
  lab.add({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: 0, weight: 0, port: kms.host.port, target: 'kms1.lab.test' } });
  lab.add({ name: 'kms1.lab.test', type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address: '127.0.0.1' } });
  zones.add(lab);
  zones.add(defaultZone('empty.test'));
  dns = await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0, queryLog: null });
});
afterAll(async () => {
  await kms.close();
  await dns.close();
});

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
