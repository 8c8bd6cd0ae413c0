/**
 * The DNS test harness under stress (part of pnpm bench:dns; alone: tsx
 * bench/dns-harness.bench.ts): DNS keeps answering whatever the admin
 * listener is asked.
 *
 * - Followers: kmslab's q/s with 1,000 followers of /queries/stream attempted
 *   (a process of their own, reading and dropping what they are sent) over its
 *   q/s without, in interleaved rounds; and the slowest /healthz answer
 *   meanwhile.
 * - Rules: the time to add 10,000 fault rules through the admin API (the
 *   last thousand against the first thousand: flat when adding costs the same
 *   however many there are), and the q/s with 10,000 never-firing `from=`
 *   rules on the queried name over the q/s with none.
 * - Large reads: the slowest answer to a UDP probe query (one every 5 ms)
 *   while `/queries` pages through a filled 500,000-entry log with a filter
 *   that matches nothing (every entry looked at).
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLASS, TYPE, emptyMessage, encodeMessage } from '@kmslab/dns-wire';
import { startCliProcess } from '../test/support/cli.js';
import { requireTool } from '../test/support/dns-tools.js';
import { LAB_ZONE as ZONE } from './lab-zone.js';
import { isMain, median, printTable, stamp, writeResults, type Row } from './report.js';


/** dnsperf's q/s over `seconds` (its other figures are bench:dns's business). */
function qps(port: number, seconds: number, queries: string, rate?: number): Promise<number> {
  requireTool('dnsperf');
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(seconds), '-c', '4', '-T', '1', '-q', '200', '-t', '2', ...(rate ? ['-Q', String(rate)] : [])];
  return new Promise((resolve, reject) => {
    const p = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)) : reject(new Error(`dnsperf exited ${code}`))));
  });
}

/** The slowest of GETs to `url` every 20 ms while `during` runs (ms). */
async function slowestGet(url: string, during: Promise<unknown>): Promise<number> {
  let done = false;
  void during.finally(() => (done = true));
  let worst = 0;
  while (!done) {
    const t = performance.now();
    await fetch(url).then((r) => r.arrayBuffer());
    worst = Math.max(worst, performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return worst;
}

/** The slowest answer to a UDP query sent every 5 ms while `during` runs (ms); a lost one counts as 1,000. */
async function slowestAnswer(port: number, during: Promise<unknown>): Promise<number> {
  const q = emptyMessage(1);
  q.questions = [{ name: 'kms1.lab.test', type: TYPE.A, class: CLASS.IN }];
  const sock = createSocket('udp4');
  const sent = new Map<number, number>();
  let worst = 0;
  let id = 0;
  sock.on('message', (m) => {
    const t = sent.get(m.readUInt16BE(0));
    if (t !== undefined) worst = Math.max(worst, performance.now() - t);
    sent.delete(m.readUInt16BE(0));
  });
  let done = false;
  void during.finally(() => (done = true));
  while (!done) {
    q.id = ++id & 0xffff;
    sent.set(q.id, performance.now());
    sock.send(encodeMessage(q), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 200));
  sock.close();
  return sent.size > 0 ? Math.max(worst, 1000) : worst;
}

export async function benchDnsHarness(o: { roundSeconds: number; rounds: number }): Promise<{ rows: Row[]; figures: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kmslab-bench-harness-'));
  writeFileSync(join(dir, 'lab.test.db'), ZONE);
  const queries = join(dir, 'queries.txt');
  writeFileSync(queries, '_vlmcs._tcp.lab.test SRV\n_vlmcs._tcp.lab.test SRV\nkms1.lab.test A\n');
  const figures: Record<string, number> = {};
  const start = (n: number, extra: string[] = []) =>
    startCliProcess(['dns', 'start', '--listen', '127.0.0.1', '--port', '0', '--zone-file', join(dir, 'lab.test.db'), '--data-dir', join(dir, `d${n}`), '--admin', '127.0.0.1:0', '--log-level', 'warn', ...extra]);
  try {
    // Followers: the same server, with and without 1,000 attempted, round by round.
    {
      await using dns = await start(0);
      const without: number[] = [];
      const withFollowers: number[] = [];
      const script = fileURLToPath(new URL('./load/query-followers.mjs', import.meta.url));
      for (let r = 0; r < o.rounds; r++) {
        without.push(await qps(dns.port, o.roundSeconds, queries));
        const followers = spawn(process.execPath, [script, `${dns.adminUrl}/queries/stream`, '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
        const counts = await new Promise<{ accepted: number; refused: number; failed: number }>((resolve) => followers.stdout!.once('data', (d) => resolve(JSON.parse(String(d)))));
        const load = qps(dns.port, o.roundSeconds, queries);
        const worst = await slowestGet(`${dns.adminUrl}/healthz`, load);
        withFollowers.push(await load);
        followers.kill();
        figures.followersAccepted = counts.accepted;
        figures.followersRefused = counts.refused;
        figures.healthzWorstMs = Math.max(figures.healthzWorstMs ?? 0, worst);
      }
      figures.qpsWithoutFollowers = median(without);
      figures.qpsWithFollowers = median(withFollowers);
      figures.followersRatio = median(withFollowers.map((q, i) => q / without[i]!));
    }
    // Rules: 10,000 added through the API, then matched (never firing) by every query.
    {
      await using dns = await start(1);
      const times: number[] = [];
      for (let i = 0; i < 10_000; i++) {
        const t = performance.now();
        const res = await fetch(`${dns.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ name: '_vlmcs._tcp.lab.test', action: 'servfail', from: `10.${(i >> 8) & 255}.${i & 255}.0/24` }) });
        if (res.status !== 201) throw new Error(`adding rule ${i}: ${res.status} ${await res.text()}`);
        times.push(performance.now() - t);
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      figures.ruleAddSeconds = times.reduce((a, b) => a + b, 0) / 1000;
      figures.ruleAddLastOverFirst = mean(times.slice(-1000)) / mean(times.slice(0, 1000));
      await using none = await start(2);
      const withRules: number[] = [];
      const withoutRules: number[] = [];
      for (let r = 0; r < o.rounds; r++) {
        withRules.push(await qps(dns.port, o.roundSeconds, queries));
        withoutRules.push(await qps(none.port, o.roundSeconds, queries));
      }
      figures.qpsWithRules = median(withRules);
      figures.qpsWithoutRules = median(withoutRules);
      figures.rulesRatio = median(withRules.map((q, i) => q / withoutRules[i]!));
    }
    // Large reads: a filled 500,000-entry log read with a filter that matches nothing, while a probe asks.
    {
      await using dns = await start(3, ['--query-log-size', '500000']);
      while (true) {
        const metrics = await (await fetch(`${dns.adminUrl}/metrics`)).text();
        const total = [...metrics.matchAll(/^kmslab_dns_queries_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
        if (total >= 500_000) break;
        await qps(dns.port, 3, queries);
      }
      const reads = (async () => {
        for (let i = 0; i < 10; i++) await (await fetch(`${dns.adminUrl}/queries?name=nothing.lab.test&limit=10000`)).arrayBuffer();
      })();
      figures.probeWorstMsDuringReads = await slowestAnswer(dns.port, reads);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: Row[] = [
    { measure: `dns harness: q/s with 1,000 followers attempted (${figures.followersAccepted} accepted, ${figures.followersRefused} refused)`, kmslab: figures.qpsWithFollowers!, anchor: figures.qpsWithoutFollowers!, anchorName: 'no followers', ratio: figures.followersRatio!, target: '≥ 0.8' },
    { measure: 'dns harness: slowest /healthz while followed (ms)', kmslab: figures.healthzWorstMs!, anchor: 100, anchorName: 'the bound', ratio: figures.healthzWorstMs! / 100, target: '≤ 1 (100 ms)' },
    { measure: 'dns harness: adding 10,000 rules, last 1,000 over first 1,000 (per add)', kmslab: figures.ruleAddLastOverFirst!, anchor: 1, anchorName: 'flat', ratio: figures.ruleAddLastOverFirst!, target: '≈ 1 (O(1) add)' },
    { measure: 'dns harness: q/s with 10,000 never-firing from= rules on the name', kmslab: figures.qpsWithRules!, anchor: figures.qpsWithoutRules!, anchorName: 'no rules', ratio: figures.rulesRatio!, target: '≥ 0.8' },
    { measure: 'dns harness: slowest answer during /queries over 500,000 entries (ms)', kmslab: figures.probeWorstMsDuringReads!, anchor: 100, anchorName: 'the bound', ratio: figures.probeWorstMsDuringReads! / 100, target: '≤ 1 (100 ms)' },
  ];
  return { rows, figures };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { rounds: { type: 'string', default: '5' }, 'round-seconds': { type: 'string', default: '3' } } });
  const { rows, figures } = await benchDnsHarness({ rounds: Number(values.rounds), roundSeconds: Number(values['round-seconds']) });
  printTable(rows);
  writeResults(`dns-harness-${stamp()}`, { node: process.version, figures });
}
