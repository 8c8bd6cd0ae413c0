import { CLASS, TYPE } from '@kmslab/dns-wire';
import { DnsServer, ZoneSet, defaultZone } from '@kmslab/dns';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { discoverHosts } from './discovery.js';

// A real kmslab DNS server on loopback: lab.test with two hosts at two priorities, empty.test with none.
let dns: DnsServer;
beforeAll(async () => {
  const zones = new ZoneSet();
  const lab = defaultZone('lab.test');
  for (const [name, priority, address] of [['kms1', 0, '127.0.0.11'], ['kms2', 10, '127.0.0.12']] as const) {
    lab.add({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority, weight: 0, port: 1688, target: `${name}.lab.test` } });
    lab.add({ name: `${name}.lab.test`, type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address } });
  }
  zones.add(lab);
  zones.add(defaultZone('empty.test'));
  dns = await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0, queryLog: null });
});
afterAll(() => dns.close());

const discover = (domains: string[]) => discoverHosts({ dns: { host: '127.0.0.1', port: dns.port }, domains, random: () => 0 });

describe('discovery (kms-reference.md "Discovery")', () => {
  test('hosts in RFC 2782 order, each with the addresses the answer carried', async () => {
    const found = await discover(['lab.test']);
    expect(found.ok).toBe(true);
    if (!found.ok) return;
    expect(found.candidates.map((c) => [c.target, c.priority, c.addresses])).toEqual([['kms1.lab.test', 0, ['127.0.0.11']], ['kms2.lab.test', 10, ['127.0.0.12']]]);
    expect(found.domains).toEqual([expect.objectContaining({ domain: 'lab.test', outcome: 'found 2', errorCode: null })]);
  });

  test('domains in turn: one without records does not stop the next', async () => {
    const found = await discover(['empty.test', 'lab.test']);
    expect(found.ok && found.candidates.length).toBe(2);
    expect(found.domains.map((d) => [d.domain, d.errorCode])).toEqual([['empty.test', '0x8007232B'], ['lab.test', null]]);
  });

  test('no domain gives a host: an outcome, not an exception, with the code of the last domain tried', async () => {
    expect(await discover(['lab.test.invalid', 'empty.test'])).toMatchObject({ ok: false, errorCode: '0x8007232B' });
    expect(await discover(['empty.test', 'example.com'])).toMatchObject({ ok: false, errorCode: '0x8007232D' }); // REFUSED: not this server's zone
    expect(await discover([])).toMatchObject({ ok: false, errorCode: '0x8007007B' });
  });
});
