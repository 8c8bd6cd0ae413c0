import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DnsServer, ZoneSet, defaultZone } from '@kmslab/dns';
import { dig } from './support/dns-tools.js';
import { startCliProcess } from './support/cli.js';
import { hostileTraffic, mutate, rng, seedMessages } from './support/dns-fuzz.js';

const SEED = 20261128;

describe('fuzz (bounded; a longer run is pnpm fuzz:dns)', () => {
  test('the server\'s answer() never throws and never takes long on 20,000 hostile messages', () => {
    const zones = new ZoneSet();
    zones.add(defaultZone('lab.test'));
    const server = DnsServer.create({ zones, queryLog: null });
    const next = rng(SEED);
    const seeds = seedMessages();
    let slowest = 0;
    for (let i = 0; i < 20_000; i++) {
      const packet = mutate(next, seeds);
      const t0 = performance.now();
      for (const transport of ['udp', 'tcp'] as const) expect(() => server.answer(packet, transport)).not.toThrow();
      slowest = Math.max(slowest, performance.now() - t0);
    }
    // A stall (dns2 3.0.0 takes ~1.7 s on one hostile header) would show here; load on a shared CI machine stays far below.
    expect(slowest).toBeLessThan(1000);
  });

  test('the server process survives hostile UDP and TCP traffic and answers a valid query right after', async () => {
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-'))]);
    await hostileTraffic(dns.port, rng(SEED + 1), { packets: 5_000, connections: 100 });
    const t0 = Date.now();
    const answer = await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'SOA']);
    expect(answer.status).toBe('NOERROR');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(dns.proc.exitCode).toBeNull();
  });
});
