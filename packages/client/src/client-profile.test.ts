import { QueryLog, type DnsServer } from '@kmslab/dns';
import type { HostService } from '@kmslab/host';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { activateOnce, type ActivateOptions } from './activate.js';
import { newClientState } from './client-state.js';
import { locatorQueryName, srvQueryName } from './client-profile.js';
import { startClientLab } from './lab.fixture.js';

// A real kmslab DNS server with its query log and a real host, on loopback: what the client sends is read from the log.
let dns: DnsServer;
let kms: HostService;
let lab: AsyncDisposable;
const log = new QueryLog({ capacity: 100 });
beforeAll(async () => {
  ({ dns, kms, ...lab } = await startClientLab({ emptyZones: ['corp.test'], queryLog: log }));
});
afterAll(() => lab[Symbol.asyncDispose]());
let since = 0;
beforeEach(() => {
  since = log.total;
});

/** Every query since the test began, in order: name as spelled on the wire, and type. */
const asked = () => log.find({ limit: 100 }).filter((e) => e.seq > since).map((e) => `${e.qname} ${e.qtype}`);
const attempt = (o: Partial<ActivateOptions>) =>
  activateOnce({ state: newClientState(), productId: 'windows-11-enterprise', clock: { now: () => Date.now() }, dns: { host: '127.0.0.1', port: dns.port }, domains: ['lab.test'], random: () => 0, ...o });

describe('the client on the wire, as captured from Windows 11 (kms-reference.md "What a Windows client sends")', () => {
  test('windows (the default), a suffix domain: the domain-controller locator first, then _VLMCS._TCP in upper case; it activates', async () => {
    const outcome = await attempt({});
    expect(asked()).toEqual(['_ldap._tcp.dc._msdcs.WORKGROUP.lab.test SRV', '_VLMCS._TCP.lab.test SRV']);
    expect(outcome).toMatchObject({ discoveredBy: 'dns', response: { count: expect.any(Number) } });
  });

  test('windows, several suffixes: locator and SRV query per domain, in order, until one has hosts', async () => {
    await attempt({ domains: ['corp.test', 'lab.test'], workgroup: 'LABNET' });
    expect(asked()).toEqual([
      '_ldap._tcp.dc._msdcs.LABNET.corp.test SRV', '_VLMCS._TCP.corp.test SRV',
      '_ldap._tcp.dc._msdcs.LABNET.lab.test SRV', '_VLMCS._TCP.lab.test SRV',
    ]);
  });

  test('windows with a lookup domain (set-domain): only _VLMCS._TCP in that domain, no locator; nothing there is its code, no fallback', async () => {
    await attempt({ lookupDomain: true });
    expect(asked()).toEqual(['_VLMCS._TCP.lab.test SRV']);
    since = log.total;
    expect(await attempt({ domains: ['corp.test'], lookupDomain: true })).toMatchObject({ errorCode: '0x8007232B', response: null });
    expect(asked()).toEqual(['_VLMCS._TCP.corp.test SRV']);
  });

  test('plain: _vlmcs._tcp in lower case, no locator', async () => {
    await attempt({ profile: 'plain' });
    expect(asked()).toEqual(['_vlmcs._tcp.lab.test SRV']);
  });

  test('a configured host (/skms) sends no query at all; no suffix from anywhere sends none and reports 0x8007007B', async () => {
    const manual = { ...newClientState(), manualHost: `127.0.0.1:${kms.host.port}` };
    expect(await attempt({ state: manual })).toMatchObject({ discoveredBy: 'manual' });
    expect(await attempt({ domains: [] })).toMatchObject({ errorCode: '0x8007007B' });
    expect(asked()).toEqual([]);
  });

  test('the names, by profile', () => {
    expect(srvQueryName('lab.test', 'windows')).toBe('_VLMCS._TCP.lab.test');
    expect(srvQueryName('lab.test.', 'plain')).toBe('_vlmcs._tcp.lab.test');
    expect(locatorQueryName('lab.test', { profile: 'windows', lookupDomain: false, workgroup: 'WORKGROUP' })).toBe('_ldap._tcp.dc._msdcs.WORKGROUP.lab.test');
    expect(locatorQueryName('lab.test', { profile: 'windows', lookupDomain: true, workgroup: 'WORKGROUP' })).toBeNull();
    expect(locatorQueryName('lab.test', { profile: 'plain', lookupDomain: false, workgroup: 'WORKGROUP' })).toBeNull();
  });
});
