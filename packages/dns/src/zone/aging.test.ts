import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASS, TYPE, updateZone, type ResourceRecord } from '@kmslab/dns-wire';
import { TIME } from '@kmslab/core';
import { afterEach, describe, expect, test } from 'vitest';
import { startDnsService, type DnsService } from '../dns-service.js';
import { parseKeyPolicy } from '../update/policy.js';
import { parseAging, parseScavengePeriod } from './aging.js';

const DAY = TIME.DAY_MS;
const key = parseKeyPolicy('kms1:hmac-sha256:a21zbGFiLXRlc3Qtc2VjcmV0LWtleS0wMTIzNDU2Nzg5');
const srv = (target: string): ResourceRecord => ({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: 0, weight: 0, port: 1688, target } });
const dirs: string[] = [];
const services: DnsService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** kmslab's DNS on a loopback port with a clock the test moves, aging lab.test 7d/7d as Windows' defaults. */
async function lab(dataDir = mkdtempSync(join(tmpdir(), 'kmslab-aging-')), start = Date.UTC(2026, 0, 1)) {
  dirs.push(dataDir);
  const clock = { now: start };
  const dns = await startDnsService({ dataDir, listen: ['127.0.0.1'], port: 0, keys: [key], aging: { zones: ['lab.test=7d/7d'] }, now: () => clock.now, queryLog: { size: 0 } });
  services.push(dns);
  const target = { host: '127.0.0.1', port: dns.server.port };
  const publish = (name: string) => updateZone(target, 'lab.test', [srv(name)], key.key, clock.now);
  const zone = () => dns.server.zones.get('lab.test')!;
  const targets = () => (zone().rrset('_vlmcs._tcp.lab.test', TYPE.SRV)?.records ?? []).map((d) => (d as { target: string }).target).sort();
  const stampOf = (name: string) => zone().stamp('_vlmcs._tcp.lab.test', TYPE.SRV, srv(name).data!);
  return { dns, clock, publish, zone, targets, stampOf, dataDir };
}

describe('aging and scavenging (Windows DNS: no-refresh 7 d, refresh 7 d, a pass every 7 d)', () => {
  test('a refresh inside no-refresh leaves the timestamp; after it, the timestamp moves (and the serial does not)', async () => {
    const { clock, publish, stampOf, zone } = await lab();
    const t0 = clock.now;
    await publish('kms1.lab.test');
    expect(stampOf('kms1.lab.test')).toBe(t0);
    const serial = zone().serial;
    clock.now = t0 + 1 * DAY; // a host re-registers daily
    await publish('kms1.lab.test');
    expect(stampOf('kms1.lab.test')).toBe(t0);
    clock.now = t0 + 7 * DAY;
    await publish('kms1.lab.test');
    expect(stampOf('kms1.lab.test')).toBe(t0 + 7 * DAY);
    expect(zone().serial).toBe(serial);
  });

  test('a record not refreshed for 14 days is stale: a dry run lists it, a pass removes it; static records never age; the live one stays', async () => {
    const { dns, clock, publish, targets, stampOf } = await lab();
    const t0 = clock.now;
    await publish('retired.lab.test'); // never refreshed again
    await publish('kms1.lab.test');
    for (let day = 1; day <= 15; day++) {
      clock.now = t0 + day * DAY;
      await publish('kms1.lab.test'); // the live host's daily refresh
    }
    expect(stampOf('kms1.lab.test')).toBe(t0 + 14 * DAY);
    const dry = dns.server.scavenge({ dryRun: true });
    expect(dry.map((r) => [r.record.name, (r.record.data as { target: string }).target, r.refreshedAt])).toEqual([['_vlmcs._tcp.lab.test', 'retired.lab.test', t0]]);
    expect(targets()).toEqual(['kms1.lab.test', 'retired.lab.test']);
    expect(dns.server.scavenge()).toHaveLength(1);
    expect(targets()).toEqual(['kms1.lab.test']);
    // ns.lab.test (static, from the zone) is never stamped.
    expect(dns.server.zones.get('lab.test')!.stamp('ns.lab.test', TYPE.A, { type: 'A', address: '127.0.0.1' })).toBeNull();
  });

  test('passes run by themselves every period on the server\'s clock, and only where a zone ages', async () => {
    const { dns, clock, publish, targets } = await lab();
    const t0 = clock.now;
    await publish('retired.lab.test');
    clock.now = t0 + 6 * DAY;
    expect(dns.server.scavengeIfDue()).toEqual([]); // first pass 7 days after the start
    clock.now = t0 + 7 * DAY;
    expect(dns.server.scavengeIfDue()).toEqual([]); // due, but nothing is stale yet
    clock.now = t0 + 14 * DAY;
    expect(dns.server.scavengeIfDue()).toHaveLength(1);
    expect(targets()).toEqual([]);
  });

  test('timestamps are kept with the zone: a restart on the same data dir ages records from when they were refreshed', async () => {
    const first = await lab();
    const t0 = first.clock.now;
    await first.publish('kms1.lab.test');
    expect(readFileSync(join(first.dataDir, 'lab.test.zone'), 'utf8')).toMatch(new RegExp(`^;kmslab-stamp ${t0} _vlmcs\\._tcp\\.lab\\.test\\.\\s+600\\s+IN\\s+SRV\\s+0 0 1688 kms1\\.lab\\.test\\.$`, 'm'));
    await services.pop()!.close();
    const again = await lab(first.dataDir, t0 + 14 * DAY);
    dirs.pop();
    expect(again.stampOf('kms1.lab.test')).toBe(t0);
    expect(again.dns.server.scavenge()).toHaveLength(1);
  });

  test('the changes IXFR answers from are kept with the zone too: a restarted primary still has them, in order', async () => {
    const first = await lab();
    const start = first.zone().serial;
    await first.publish('kms1.lab.test');
    await first.publish('kms2.lab.test');
    await services.pop()!.close();
    const again = await lab(first.dataDir);
    dirs.pop();
    const history = again.zone().history();
    expect(history.map((d) => [d.from, d.to, d.deleted.length, d.added.map((r) => (r.data as { target: string }).target)])).toEqual([
      [start, start + 1, 0, ['kms1.lab.test']],
      [start + 1, start + 2, 0, ['kms2.lab.test']],
    ]);
    expect(again.stampOf('kms2.lab.test')).toBe(again.clock.now);
  });

  test('--aging and --scavenge-period: one-line errors', () => {
    expect(parseAging('lab.test=7d/7d')).toEqual({ zone: 'lab.test', rule: { noRefreshMs: 7 * DAY, refreshMs: 7 * DAY } });
    expect(() => parseAging('lab.test=7d')).toThrow(/--aging "lab.test=7d": must be ZONE=NOREFRESH\/REFRESH/);
    expect(() => parseAging('lab.test=0d/0d')).toThrow(/must be ZONE=NOREFRESH\/REFRESH/);
    expect(parseScavengePeriod('1h')).toBe(60 * TIME.MINUTE_MS);
    expect(() => parseScavengePeriod('5s')).toThrow(/must be a duration from 1m to 3650d/);
  });
});
