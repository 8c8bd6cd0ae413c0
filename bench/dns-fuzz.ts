/**
 * pnpm fuzz:dns — the long fuzz run (the test suite runs a short one).
 *   1. --messages N (default 1,000,000) hostile messages through DnsServer.answer:
 *      counts thrown errors (must be 0) and the slowest message.
 *   2. --packets N (default 200,000) of them over UDP and 2,000 TCP connections
 *      to a real `kmslab dns start` on loopback, then a valid query: the
 *      process must be alive and answer.
 * Deterministic from --seed; every loop is bounded in count and time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DnsServer, defaultZone, parseKeyPolicy, ZoneSet } from '@kmslab/dns';
import { rcodeName } from '@kmslab/dns-wire';
import { startCliProcess } from '../test/support/cli.js';
import { dig } from '../test/support/dns-tools.js';
import { hostileTraffic, mutate, rng, seedMessages } from '../test/support/dns-fuzz.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' }, packets: { type: 'string', default: '200000' }, seed: { type: 'string', default: '1' } } });
const seed = Number(values.seed);
const seeds = seedMessages();

const zones = new ZoneSet();
zones.add(defaultZone('lab.test'));
const server = DnsServer.create({ zones, keys: [parseKeyPolicy('k:hmac-sha256:c2VjcmV0c2VjcmV0')], queryLog: null });
let thrown = 0;
let slowest = 0;
const kinds: Record<string, number> = {};
const next = rng(seed);
const t0 = performance.now();
for (let i = 0; i < Number(values.messages); i++) {
  const packet = mutate(next, seeds);
  const t = performance.now();
  try {
    const out = server.answer(packet, i % 2 ? 'udp' : 'tcp');
    const first = Array.isArray(out) ? out[0] : out;
    const kind = first ? rcodeName(first[3]! & 0xf) : 'no answer';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  } catch {
    thrown++;
  }
  slowest = Math.max(slowest, performance.now() - t);
}
console.log(`in-process: ${values.messages} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s, thrown ${thrown}, slowest ${slowest.toFixed(2)} ms, outcomes ${JSON.stringify(kinds)}`);

{
  await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-fuzz-')), '--log-level', 'warn']);
  const t1 = performance.now();
  await hostileTraffic(dns.port, rng(seed + 1), { packets: Number(values.packets), connections: 2000 });
  const answer = await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'SOA']);
  const alive = dns.proc.exitCode === null;
  console.log(`network: ${values.packets} UDP packets and 2000 TCP connections in ${((performance.now() - t1) / 1000).toFixed(1)} s; server alive: ${alive}; valid query after: ${answer.status}`);
  if (!alive || answer.status !== 'NOERROR' || thrown > 0) process.exitCode = 1;
}
