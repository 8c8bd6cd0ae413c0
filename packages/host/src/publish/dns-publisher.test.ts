import { describe, expect, test } from 'vitest';
import { parseTsigKey, TYPE } from '@kmslab/dns-wire';
import { realClock } from '@kmslab/core';
import { DnsServer, ZoneSet, defaultZone, parseKeyPolicy } from '@kmslab/dns';
import { createServer } from 'node:net';
import { DnsPublisher, retryDelayMs } from './dns-publisher.js';

const SECRET = 'cHVibGlzaGVyLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk=';

describe('DnsPublisher', () => {
  test('re-registers on its refresh interval: a record removed from the zone comes back', async () => {
    const zones = new ZoneSet();
    const zone = defaultZone('lab.test');
    zones.add(zone);
    await using dns = await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0, keys: [parseKeyPolicy(`kms1:hmac-sha256:${SECRET}:host=kms1.lab.test`)] });
    const publisher = new DnsPublisher({
      dns: { host: '127.0.0.1', port: dns.port }, key: parseTsigKey(`kms1:hmac-sha256:${SECRET}`), fqdn: 'kms1.lab.test', addresses: ['127.0.0.1'],
      domains: [{ domain: 'lab.test', priority: 0, weight: 0 }], refreshMs: 300, clock: realClock,
    });
    await publisher.start(1688);
    try {
      expect(zone.rrset('_vlmcs._tcp.lab.test', TYPE.SRV)?.records).toHaveLength(1);
      zone.delete('_vlmcs._tcp.lab.test', TYPE.SRV);
      expect(zone.rrset('_vlmcs._tcp.lab.test', TYPE.SRV)).toBeUndefined();
      // The next refresh (300 ms) puts it back.
      await expect.poll(() => zone.rrset('_vlmcs._tcp.lab.test', TYPE.SRV)?.records, { timeout: 2000, interval: 50 }).toEqual([{ type: 'SRV', priority: 0, weight: 0, port: 1688, target: 'kms1.lab.test' }]);
      expect(publisher.state.lastError).toBeNull();
    } finally {
      await publisher.stop({ deregister: true });
    }
    expect(zone.rrset('_vlmcs._tcp.lab.test', TYPE.SRV)).toBeUndefined();
    expect(zone.rrset('kms1.lab.test', TYPE.A)).toBeUndefined();
  });

  test('a DNS server that comes up after the host is published to within a second or so, not a minute later', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const publisher = new DnsPublisher({
      dns: { host: '127.0.0.1', port }, key: parseTsigKey(`kms1:hmac-sha256:${SECRET}`), fqdn: 'kms1.lab.test', addresses: [],
      domains: [{ domain: 'lab.test', priority: 0, weight: 0 }], clock: realClock,
    });
    // Nothing listens yet: over TCP that is a refusal at once, and start() goes on without waiting out a timeout.
    await publisher.start(1688);
    try {
      expect(publisher.state.lastError).toMatch(/ECONNREFUSED/);
      const zones = new ZoneSet();
      const zone = defaultZone('lab.test');
      zones.add(zone);
      await using _dns = await DnsServer.start({ zones, listen: ['127.0.0.1'], port, keys: [parseKeyPolicy(`kms1:hmac-sha256:${SECRET}:host=kms1.lab.test`)] });
      // The zone holds the record as soon as the server applies the update, a moment before the publisher reads the answer: wait for both.
      await expect.poll(() => publisher.state.lastPublished, { timeout: 3000, interval: 50 }).not.toBeNull();
      expect(zone.rrset('_vlmcs._tcp.lab.test', TYPE.SRV)?.records).toEqual([{ type: 'SRV', priority: 0, weight: 0, port: 1688, target: 'kms1.lab.test' }]);
      expect(publisher.state.lastError).toBeNull();
    } finally {
      await publisher.stop();
    }
  });

  test('retries back off from a quarter second to a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(retryDelayMs)).toEqual([250, 250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 60000]);
    expect(retryDelayMs(50)).toBe(60_000);
  });
});
