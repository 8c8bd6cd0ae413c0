/**
 * Replication, in `pnpm bench:dns` (or alone: `tsx bench/dns-replication.bench.ts`):
 *
 * 1. How long a change takes from the primary to an answer on a secondary:
 *    an update on a kmslab primary until its BIND secondary answers it
 *    (NOTIFY, then IXFR), beside a BIND primary → BIND secondary
 *    (`notify-delay 0`, so neither waits on purpose): the same shape, one
 *    primary and one secondary, the ratio. For context, a kmslab primary
 *    with three secondaries at once (BIND, Knot, NSD; it serves three IXFRs
 *    per change) and a Knot primary → Knot secondary. Changes go round the
 *    set-ups, each set-up's at least 600 ms apart: a BIND secondary that
 *    transferred a zone less than 500 ms before waits out the rest (its log
 *    shows "Transfer started" 500 ms after the last), which would measure
 *    BIND's pacing, not the primary. Each figure is the median over
 *    --changes N (default 20), polled every 2 ms on UDP.
 * 2. The primary's q/s (dnsperf, SRV queries) with three secondaries
 *    following and a change every second, against the same primary with no
 *    changes, in interleaved rounds (--rounds, --round-seconds).
 *
 * Everything on loopback, started here and stopped at the end.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLASS, TYPE, parseTsigKey, query, updateZone } from '@kmslab/dns-wire';
import { freePort } from '@kmslab/lab/live';
import { startCliProcess } from '../test/support/cli.js';
import { startKnotPrimary, startKnotSecondary, startNsdSecondary } from '../test/support/dns-peers.js';
import { requireTool } from '../test/support/dns-tools.js';
import { NamedServer } from '../test/support/named.js';
import { isMain, median, printTable, stamp, writeResults, type Row } from './report.js';

export interface ReplicationBenchOptions {
  changes: number;
  rounds: number;
  roundSeconds: number;
}

const SECRET = randomBytes(32).toString('base64');
const KEY = parseTsigKey(`admin:hmac-sha256:${SECRET}`);
const ZONE_LINES = ['$TTL 600', '@ IN SOA ns hostmaster 1 3600 600 604800 300', '@ IN NS ns', 'ns IN A 127.0.0.1', '_vlmcs._tcp IN SRV 0 0 1688 kms1', 'kms1 IN A 127.0.0.1'];

/** Adds `name` A on the primary, then waits until every secondary answers it: ms per secondary. */
async function propagate(primary: number, secondaries: readonly number[], name: string): Promise<number[]> {
  const start = performance.now();
  await updateZone({ host: '127.0.0.1', port: primary }, 'lab.test', [{ name, type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address: '192.0.2.1' } }], KEY, Date.now());
  return Promise.all(secondaries.map(async (port) => {
    const deadline = start + 15_000;
    for (;;) {
      const { answer } = await query({ host: '127.0.0.1', port, timeoutMs: 500 }, name, TYPE.A).catch(() => ({ answer: null }));
      if (answer?.answers.length) return performance.now() - start;
      if (performance.now() > deadline) throw new Error(`${name} never reached the secondary on ${port}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }));
}

function dnsperf(port: number, seconds: number, queries: string): Promise<number> {
  requireTool('dnsperf');
  return new Promise((resolve, reject) => {
    const p = spawn('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(seconds), '-c', '4', '-T', '1', '-q', '200', '-t', '2'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)) : reject(new Error(`dnsperf failed (${code})`))));
  });
}

export async function benchDnsReplication(o: ReplicationBenchOptions): Promise<{ rows: Row[]; figures: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kmslab-bench-repl-'));
  const zoneFile = join(dir, 'lab.test.zone');
  writeFileSync(zoneFile, `$ORIGIN lab.test.\n${ZONE_LINES.join('\n')}\n`);
  const [bindSecPort, knotPort, nsdPort, bindToBindPort, soloSecPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  await using primary = await startCliProcess([
    'dns', 'start', '--listen', '127.0.0.1', '--port', '0', '--zone-file', zoneFile, '--data-dir', join(dir, 'data'), '--tsig-key', `admin:hmac-sha256:${SECRET}`,
    '--allow-transfer', '127.0.0.0/8', '--query-log-size', '0', '--log-level', 'warn', ...[bindSecPort, knotPort, nsdPort].flatMap((p) => ['--notify', `127.0.0.1:${p}`]),
  ]);
  const at = { host: '127.0.0.1', port: primary.port };
  // The ratio's kmslab side: a primary with one BIND secondary, as the anchor has.
  await using solo = await startCliProcess([
    'dns', 'start', '--listen', '127.0.0.1', '--port', '0', '--zone-file', zoneFile, '--data-dir', join(dir, 'solo-data'), '--tsig-key', `admin:hmac-sha256:${SECRET}`,
    '--allow-transfer', '127.0.0.0/8', '--query-log-size', '0', '--log-level', 'warn', '--notify', `127.0.0.1:${soloSecPort}`,
  ]);
  await using soloSec = await NamedServer.start(`zone "lab.test" { type secondary; primaries port ${solo.port} { 127.0.0.1; }; file "DIR/lab.test.sec"; allow-notify { 127.0.0.1; }; };`, '', { port: soloSecPort });
  await using bindSec = await NamedServer.start(`zone "lab.test" { type secondary; primaries port ${primary.port} { 127.0.0.1; }; file "DIR/lab.test.sec"; allow-notify { 127.0.0.1; }; };`, '', { port: bindSecPort });
  await using knot = await startKnotSecondary('lab.test', at, { port: knotPort });
  await using nsd = await startNsdSecondary('lab.test', at, { port: nsdPort });
  // The anchor: BIND primary → BIND secondary, NOTIFY without its default delay.
  writeFileSync(join(dir, 'bind-primary.db'), `${ZONE_LINES.join('\n')}\n`);
  await using bindPrimary = await NamedServer.start(
    `zone "lab.test" { type primary; file "${join(dir, 'bind-primary.db')}"; allow-update { key "admin"; }; notify explicit; notify-delay 0; also-notify port ${bindToBindPort} { 127.0.0.1; }; };`,
    `key "admin" { algorithm hmac-sha256; secret "${SECRET}"; };`,
  );
  await using bindToBind = await NamedServer.start(`zone "lab.test" { type secondary; primaries port ${bindPrimary.port} { 127.0.0.1; }; file "DIR/lab.test.sec"; allow-notify { 127.0.0.1; }; };`, '', { port: bindToBindPort });
  // A second anchor: Knot primary → Knot secondary (Knot starts its transfer on NOTIFY at once; BIND sometimes waits).
  const knotToKnotPort = await freePort();
  await using knotPrimary = await startKnotPrimary('lab.test', `$ORIGIN lab.test.\n${ZONE_LINES.join('\n')}\n`, { name: 'admin', secret: SECRET }, knotToKnotPort);
  await using knotToKnot = await startKnotSecondary('lab.test', { host: '127.0.0.1', port: knotPrimary.port }, { port: knotToKnotPort });
  // Every secondary has the zone before the clock starts.
  for (const port of [bindSecPort, knotPort, nsdPort, bindToBindPort, knotToKnotPort, soloSecPort]) await propagateReady(port);

  const soloMs: number[] = [];
  const kmslabMs: number[][] = [[], [], []];
  const bindMs: number[] = [];
  const knotMs: number[] = [];
  const spaced = paced(600);
  for (let i = 0; i < o.changes; i++) {
    soloMs.push((await spaced('solo', () => propagate(solo.port, [soloSecPort], `s${i}.lab.test`)))[0]!);
    bindMs.push((await spaced('bind', () => propagate(bindPrimary.port, [bindToBindPort], `b${i}.lab.test`)))[0]!);
    (await spaced('three', () => propagate(primary.port, [bindSecPort, knotPort, nsdPort], `k${i}.lab.test`))).forEach((ms, j) => kmslabMs[j]!.push(ms));
    knotMs.push((await spaced('knot', () => propagate(knotPrimary.port, [knotToKnotPort], `n${i}.lab.test`)))[0]!);
  }
  const anchor = median(bindMs);
  const knotAnchor = median(knotMs);
  const toSolo = median(soloMs);
  const [toBind, toKnot, toNsd] = kmslabMs.map(median) as [number, number, number];

  // The primary under query load, with and without a change a second (each one NOTIFY and three IXFRs).
  const queries = join(dir, 'queries.txt');
  writeFileSync(queries, '_vlmcs._tcp.lab.test SRV\n_vlmcs._tcp.lab.test SRV\nkms1.lab.test A\n');
  const quiet: number[] = [];
  const busy: number[] = [];
  let n = 0;
  for (let r = 0; r < o.rounds; r++) {
    quiet.push(await dnsperf(primary.port, o.roundSeconds, queries));
    const changes = setInterval(() => void propagate(primary.port, [], `q${n++}.lab.test`).catch(() => {}), 1000);
    try {
      busy.push(await dnsperf(primary.port, o.roundSeconds, queries));
    } finally {
      clearInterval(changes);
    }
  }
  const ratios = busy.map((b, i) => b / quiet[i]!);
  rmSync(dir, { recursive: true, force: true });
  const rows: Row[] = [
    { measure: 'replication: update → answer, kmslab primary → BIND secondary (ms)', kmslab: toSolo, anchor, anchorName: 'BIND → BIND', ratio: toSolo / anchor, target: '≤ 1.2, < 1000 ms' },
    { measure: 'replication: the same, kmslab primary with 3 secondaries → BIND (ms)', kmslab: toBind, anchor, anchorName: 'BIND → BIND', ratio: toBind / anchor, target: '(context: three IXFRs per change)' },
    { measure: 'replication: update → answer, kmslab primary → Knot secondary (ms)', kmslab: toKnot, anchor: knotAnchor, anchorName: 'Knot → Knot', ratio: toKnot / knotAnchor, target: '(context: a Knot primary answers an update about a second later)' },
    { measure: 'replication: update → answer, kmslab primary → NSD secondary (ms)', kmslab: toNsd, anchor, anchorName: 'BIND → BIND', ratio: toNsd / anchor, target: '(context)' },
    { measure: 'primary q/s, 3 secondaries and a change a second, over none', kmslab: median(busy), anchor: median(quiet), anchorName: 'no changes', ratio: median(ratios), target: '≥ 0.9' },
  ];
  return { rows, figures: { soloMs, kmslabMs, bindMs, knotMs, quiet, busy, ratios } };
}

/** Runs each set-up's change no sooner than `ms` after that set-up's last (a BIND secondary paces its own transfers). */
function paced(ms: number): <T>(setup: string, change: () => Promise<T>) => Promise<T> {
  const last = new Map<string, number>();
  return async (setup, change) => {
    const wait = (last.get(setup) ?? -Infinity) + ms - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    last.set(setup, performance.now());
    return change();
  };
}

/** Waits until a secondary answers the zone's SOA (its first transfer done). */
async function propagateReady(port: number): Promise<void> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const { answer } = await query({ host: '127.0.0.1', port, timeoutMs: 500 }, 'kms1.lab.test', TYPE.A).catch(() => ({ answer: null }));
    if (answer?.answers.length) return;
    if (performance.now() > deadline) throw new Error(`the secondary on ${port} never loaded the zone`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { changes: { type: 'string', default: '20' }, rounds: { type: 'string', default: '5' }, 'round-seconds': { type: 'string', default: '3' } } });
  const r = await benchDnsReplication({ changes: Number(values.changes), rounds: Number(values.rounds), roundSeconds: Number(values['round-seconds']) });
  printTable(r.rows);
  writeResults(`dns-replication-${stamp()}`, { node: process.version, ...r.figures });
}
