/**
 * pnpm chaos — faults under load, on loopback, bounded in time: a Redis
 * Cluster (3 primaries, 3 replicas), the lab DNS (kmslab dns), two hosts
 * publishing themselves (priorities 0 and 10, --durability replica) and
 * simulated client machines that discover hosts by SRV (host caching on) and
 * contact them every 50–150 ms. One fault after another:
 *   1. the Redis primary of kms1's Windows slot is killed (back after 5 s);
 *   2. the DNS server restarts (2 s down);
 *   3. the host most clients use now is SIGSTOPped (default 60 s), then continued;
 *   4. the SRV records are dropped and put back 5 s later.
 * Per fault: requests failed, time to recover after the fault ended (last
 * failure), clients that failed over; at the end every client a host
 * acknowledged must be in that host's records in Redis.
 * Target: no acknowledged client lost, recovery < 10 s after each fault ends.
 *
 * Options: --clients N (default 40), --stop-seconds N (default 60).
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { realClock } from '@kmslab/core';
import { activateOnce, newClientState, seededRandom, type ClientState } from '@kmslab/client';
import { ProcessDns, startKmslabProcess, type KmslabProcess } from '@kmslab/lab/live';
import { RedisCluster } from '@kmslab/test-redis';
import { KMSLAB_BIN } from '../test/support/cli.js';
import { printTable, stamp, writeResults, type Row } from './report.js';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '40' }, 'stop-seconds': { type: 'string', default: '60' } } });
const CLIENTS = Math.min(45, Number(values.clients));
const STOP_S = Number(values['stop-seconds']);
const KMSLAB = [process.execPath, KMSLAB_BIN];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Contact {
  at: number;
  client: number;
  ok: boolean;
  host: string | null;
  code: string | null;
  /** How long the contact took (discovery, failover and all). */
  ms: number;
}

console.error(`chaos — ${CLIENTS} clients, SIGSTOP for ${STOP_S} s, Node ${process.version}`);
await using cluster = await RedisCluster.start({ primaries: 3, replicas: 1 });
const dns = await ProcessDns.start(KMSLAB, 'lab.test');
const hosts = new Map<string, KmslabProcess>();
const startHost = async (name: string, priority: number) => {
  const proc = await startKmslabProcess(KMSLAB, [
    'host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--store', 'redis', '--redis-cluster', cluster.seeds, '--durability', 'replica',
    '--host-id', name, '--log-level', 'warn', '--publish', '--dns', dns.server, '--tsig-key', dns.tsigKey, '--fqdn', `${name}.lab.test`, '--advertise-address', '127.0.0.1', '--publish-domain', `lab.test,${priority},0`,
  ]);
  hosts.set(name, proc);
  await dns.hostStarted(name, proc.port);
};
await startHost('kms1', 0);
await startHost('kms2', 10);

// Client machines: the client library, discovery by SRV, host caching on.
const contacts: Contact[] = [];
const acknowledged = new Map<string, Set<string>>(); // host id → CMIDs it answered with a count
const states: ClientState[] = Array.from({ length: CLIENTS }, () => newClientState());
let running = true;
const random = seededRandom(7);
const machine = async (i: number) => {
  while (running) {
    const state = states[i]!;
    const started = Date.now();
    const outcome = await activateOnce({ state, productId: 'windows-10-enterprise', clock: realClock, random, dns: dns.target, domains: ['lab.test'], connectTimeoutMs: 1000 }).catch((err: { code?: string }) => ({ response: null, host: null, errorCode: err.code ?? 'error' }));
    const host = outcome.host?.split('.')[0] ?? null;
    const ok = outcome.response?.count !== undefined && outcome.response?.count !== null;
    if (ok && host) (acknowledged.get(host) ?? acknowledged.set(host, new Set()).get(host)!).add(state.cmid);
    contacts.push({ at: Date.now(), client: i, ok, host, code: ok ? null : (outcome.errorCode ?? null), ms: Date.now() - started });
    await sleep(50 + random() * 100);
  }
};
const load = Promise.all(states.map((_, i) => machine(i)));

interface Fault {
  name: string;
  start: () => Promise<void>;
  end: () => Promise<void>;
  durationMs: number;
}
const primary = await cluster.primaryFor('kmslab:{kms1:windows}:clients');
let removed: Awaited<ReturnType<typeof dns.removeSrv>> = [];
// The host that answered most of the last 200 contacts: stopping it is felt (host caching moves clients around).
const busiest = () => {
  const tally = new Map<string, number>();
  for (const c of contacts.slice(-200)) if (c.host) tally.set(c.host, (tally.get(c.host) ?? 0) + 1);
  return [...tally].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'kms1';
};
let stopped = 'kms1';
const faults: Fault[] = [
  { name: 'Redis primary killed (kms1 windows slot)', durationMs: 5_000, start: () => primary.kill(), end: () => primary.resume() },
  { name: 'DNS server restarted', durationMs: 2_000, start: async () => {}, end: () => dns.restart(2_000) },
  { name: `busiest host SIGSTOP for ${STOP_S} s`, durationMs: STOP_S * 1000, start: async () => void hosts.get((stopped = busiest()))!.proc.kill('SIGSTOP'), end: async () => void hosts.get(stopped)!.proc.kill('SIGCONT') },
  { name: 'SRV records dropped', durationMs: 5_000, start: async () => void (removed = await dns.removeSrv()), end: () => dns.restoreSrv(removed) },
];

await sleep(5_000); // warm-up: everyone licensed on kms1
const rows: Row[] = [];
const report: Array<Record<string, unknown>> = [];
for (const f of faults) {
  const hostBefore = states.map((_, i) => [...contacts].reverse().find((c) => c.client === i && c.ok)?.host ?? null);
  const t0 = Date.now();
  await f.start();
  if (f.name !== 'DNS server restarted') await sleep(f.durationMs);
  await f.end();
  const t1 = Date.now();
  await sleep(10_000);
  const window = contacts.filter((c) => c.at >= t0 && c.at < Date.now());
  const failed = window.filter((c) => !c.ok);
  const lastFailure = failed.filter((c) => c.at >= t1).at(-1);
  const recoveryS = lastFailure ? (lastFailure.at - t1) / 1000 : 0;
  const failedOver = new Set(window.filter((c) => c.ok && hostBefore[c.client] && c.host !== hostBefore[c.client]).map((c) => c.client)).size;
  const codes = [...new Set(failed.map((c) => c.code))].join(' ');
  const slowestS = Math.max(0, ...window.map((c) => c.ms)) / 1000;
  if (f.name.startsWith('busiest')) f.name = f.name.replace('busiest host', stopped);
  console.error(`  ${f.name}: ${failed.length} of ${window.length} requests failed (${codes || 'none'}), recovered ${recoveryS.toFixed(1)} s after the fault ended, ${failedOver} clients failed over, slowest contact ${slowestS.toFixed(1)} s`);
  report.push({ fault: f.name, requests: window.length, failed: failed.length, codes, recoveryS, failedOver, slowestS });
  rows.push({ measure: `chaos: ${f.name}: recovery after the fault (s)`, kmslab: recoveryS, anchor: 10, anchorName: 'target', ratio: recoveryS / 10, target: '< 10 s' });
}
running = false;
await load;

// Consistency: every acknowledged client is in its host's records.
const check = cluster.client();
let missing = 0;
let total = 0;
for (const [host, cmids] of acknowledged) {
  for (const cmid of cmids) {
    total++;
    if ((await check.zscore(`kmslab:{${host}:windows}:clients`, cmid)) === null) missing++;
  }
}
check.disconnect();
console.error(`  consistency: ${total} acknowledged (host, client) pairs, ${missing} missing from Redis`);
rows.push({ measure: 'chaos: acknowledged clients missing from the store', kmslab: missing, anchor: total, anchorName: 'acknowledged', ratio: total ? missing / total : 0, target: '0' });
printTable(rows);
writeResults(`chaos-${stamp()}`, { node: process.version, clients: CLIENTS, stopSeconds: STOP_S, faults: report, acknowledged: total, missing, rows });
for (const h of hosts.values()) {
  h.proc.kill('SIGCONT');
  await h.stop();
}
await dns.close();
process.exitCode = missing === 0 && rows.every((r) => r.measure.includes('missing') || r.kmslab < 10) ? 0 : 1;
