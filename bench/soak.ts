/**
 * pnpm soak -- --minutes N — N minutes (default 30) of steady load against
 * two host processes (one host id each) on a Redis Cluster (3 primaries, 3
 * replicas), with client intervals accelerated to a few milliseconds: 300
 * client machines, 10 connections per host. Every minute: throughput, p99,
 * errors, and the RSS of each host and Redis process, beside anchors
 * (fsync latency, a fixed CPU task) and Redis INFO (AOF size,
 * forks, ops). The Redis nodes write their append-only files (fsync on
 * every write, as everywhere else) to a tmpfs, /dev/shm by default
 * (`--aof-dir DIR` to choose, e.g. a disk): on a shared disk the fsync
 * latency moved throughput by a third over two hours (r = −0.42) and
 * drowned any drift of kmslab's own; the disk's fsync is still shown as
 * context. Targets: zero errors; no drift: throughput and p99 of the
 * last third of the run within ±10 % of the first third (after 5 minutes of
 * warm-up); RSS growth < 5 % over the same thirds. The worst single
 * minute is shown too, beside the anchors that tell a noisy machine.
 */
import { closeSync, existsSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseArgs } from 'node:util';
import { KmsConnection } from '@kmslab/core';
import { startKmslabProcess, type KmslabProcess } from '@kmslab/lab/live';
import { RedisCluster } from '@kmslab/test-redis';
import { KMSLAB_BIN } from '../test/support/cli.js';
import { median, printTable, stamp, writeResults, type Row } from './report.js';

const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { minutes: { type: 'string', default: '30' }, 'aof-dir': { type: 'string' } } });
const MINUTES = Math.max(1, Number(values.minutes));
const AOF_DIR = values['aof-dir'] ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const rssMiB = (pid: number | undefined) => {
  if (!pid) return 0;
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
};

/**
 * Anchors measured each minute beside the load, to tell a drift of kmslab
 * from a drift of the machine: fsync latency (200 appends of 200 bytes, each
 * fdatasync'd) in the filesystem Redis writes its AOF to (what `appendfsync
 * always` waits on) and in the temp dir's disk, and a fixed CPU task
 * (SHA-256 of 64 MiB).
 */
const aofProbeDir = mkdtempSync(join(AOF_DIR, 'kmslab-soak-probe-'));
const diskProbeDir = mkdtempSync(join(tmpdir(), 'kmslab-soak-probe-'));
function fsyncProbeMs(dir: string): number {
  const fd = openSync(join(dir, 'probe'), 'w');
  const line = Buffer.alloc(200, 0x61);
  const t = performance.now();
  for (let i = 0; i < 200; i++) {
    writeSync(fd, line);
    fdatasyncSync(fd);
  }
  const ms = (performance.now() - t) / 200;
  closeSync(fd);
  return ms;
}
const block = Buffer.alloc(1024 * 1024, 7);
function cpuProbeMs(): number {
  const t = performance.now();
  for (let i = 0; i < 64; i++) createHash('sha256').update(block).digest();
  return performance.now() - t;
}
/** What one primary says of itself: AOF size, forks so far, its own ops/s. */
async function redisInfo(port: number): Promise<{ aofMiB: number; forks: number; ops: number }> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const info = await r.info();
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    return { aofMiB: +(field('aof_current_size') / 2 ** 20).toFixed(1), forks: field('total_forks'), ops: field('instantaneous_ops_per_sec') };
  } finally {
    r.disconnect();
  }
}

console.error(`soak — ${MINUTES} min, Node ${process.version}, Redis AOF in ${AOF_DIR}`);
await using cluster = await RedisCluster.start({ primaries: 3, replicas: 1, parentDir: AOF_DIR });
const hosts: KmslabProcess[] = [];
for (const id of ['soak-a', 'soak-b']) {
  hosts.push(await startKmslabProcess([process.execPath, KMSLAB_BIN], ['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--store', 'redis', '--redis-cluster', cluster.seeds, '--host-id', id, '--log-level', 'warn']));
}
// Stopped early (Ctrl-C, a killed job): the hosts and the Redis nodes go with it, rather than serving on unseen.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const h of hosts) h.proc.kill('SIGKILL');
    void cluster[Symbol.asyncDispose]().finally(() => process.exit(130));
  });
}
const cmids = Array.from({ length: 300 }, () => randomUUID());
let latencies: number[] = [];
let errors = 0;
let requests = 0;
const end = Date.now() + MINUTES * 60_000;
const connection = async (port: number, offset: number) => {
  const conn = await KmsConnection.connect({ host: '127.0.0.1', port });
  for (let i = offset; Date.now() < end; i += 10) {
    const cmid = cmids[i % cmids.length]!;
    const t = performance.now();
    try {
      await conn.activate({ cmid, productId: 'windows-10-enterprise', fqdn: `${cmid.slice(0, 8)}.lab.test`, clientTime: Date.now(), kind: 'renewal', licenseStatus: 'licensed' });
      latencies.push(performance.now() - t);
    } catch {
      errors++;
    }
    requests++;
    await new Promise((r) => setTimeout(r, 2));
  }
  conn.close();
};
const load = Promise.all(hosts.flatMap((h) => Array.from({ length: 10 }, (_, c) => connection(h.port, c))));

const minutes: Array<Record<string, number>> = [];
for (let m = 1; m <= MINUTES; m++) {
  const windowStart = performance.now();
  await new Promise((r) => setTimeout(r, Math.max(0, Math.min(60_000, end - Date.now()))));
  // The last window can be short (start-up ate into the budget): a rate over the time it really lasted.
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const row: Record<string, number> = {
    minute: m,
    perSecond: Math.round(requests / windowSeconds),
    p99Ms: +(sorted[Math.floor(sorted.length * 0.99)] ?? 0).toFixed(2),
    errors,
    ...Object.fromEntries(hosts.map((h, i) => [`host${i + 1}MiB`, rssMiB(h.proc.pid)])),
    redisMaxMiB: Math.max(...cluster.nodes.map((n) => rssMiB(n.pid))),
    fsyncMs: +fsyncProbeMs(aofProbeDir).toFixed(3),
    diskFsyncMs: +fsyncProbeMs(diskProbeDir).toFixed(3),
    cpuProbeMs: Math.round(cpuProbeMs()),
    ...(await Promise.all(cluster.nodes.map((n) => redisInfo(n.port).catch(() => ({ aofMiB: 0, forks: 0, ops: 0 })))).then((all) => ({
      redisAofMaxMiB: Math.max(...all.map((i) => i.aofMiB)),
      redisForks: all.reduce((sum, i) => sum + i.forks, 0),
      redisOps: all.reduce((sum, i) => sum + i.ops, 0),
    }))),
  };
  minutes.push(row);
  console.error(`  minute ${m}: ${row.perSecond}/s p99 ${row.p99Ms} ms errors ${row.errors} RSS host ${hosts.map((_, i) => row[`host${i + 1}MiB`]).join('/')} MiB, Redis max ${row.redisMaxMiB} MiB; fsync AOF dir ${row.fsyncMs} ms, disk ${row.diskFsyncMs} ms, CPU probe ${row.cpuProbeMs} ms, largest AOF ${row.redisAofMaxMiB} MiB, forks ${row.redisForks}, Redis ops ${row.redisOps}/s`);
  latencies = [];
  requests = 0;
}
await load;
for (const h of hosts) await h.stop();
for (const dir of [aofProbeDir, diskProbeDir]) rmSync(dir, { recursive: true, force: true });

const totalErrors = minutes.reduce((s, m) => s + m.errors!, 0);
// Flatness after warm-up (the first 5 minutes, or the first fifth of a short run): each minute against the median.
const steady = minutes.slice(Math.min(5, Math.floor(minutes.length / 5)));
const spread = (key: string) => {
  const values = steady.map((m) => m[key]!);
  const mid = median(values);
  return { mid, worst: Math.max(...values.map((v) => Math.abs(v / mid - 1))) };
};
const flat = (key: string, what: string) => {
  const { mid, worst } = spread(key);
  return { measure: `soak: ${what}, worst minute vs median after warm-up`, kmslab: +(worst * 100).toFixed(1), anchor: mid, anchorName: 'median', ratio: 1 + worst, target: 'context' };
};
// Drift: the median of the last third of the steady minutes against the first third (a slow leak or growth shows here;
// one noisy minute, a neighbour on a shared machine, does not).
const third = Math.max(1, Math.floor(steady.length / 3));
const drift = (key: string, what: string) => {
  const first = median(steady.slice(0, third).map((m) => m[key]!));
  const last = median(steady.slice(-third).map((m) => m[key]!));
  return { measure: `soak: ${what}, last third vs first third after warm-up (median)`, kmslab: last, anchor: first, anchorName: 'first third', ratio: last / first, target: '0.90–1.10' };
};
// Growth: the same thirds, so one sample taken at a GC trough or peak is not read as a leak or as none.
const growth = (key: string, what: string) => ({ ...drift(key, what), target: '< 1.05' });
const rows: Row[] = [
  drift('perSecond', 'throughput /s'),
  drift('p99Ms', 'p99 ms'),
  // Context, not the verdict: the same drift over the machine's own (the CPU anchor's), which a noisy host moves too.
  { ...drift('p99Ms', 'p99 ms over the CPU anchor\'s drift'), ratio: drift('p99Ms', '').ratio / drift('cpuProbeMs', '').ratio, target: 'context' },
  flat('perSecond', 'throughput /s (±%)'),
  flat('p99Ms', 'p99 ms (±%)'),
  flat('fsyncMs', `anchor: fsync in the AOF dir (${AOF_DIR}), ms (±%)`),
  flat('diskFsyncMs', 'context: fsync on the temp dir\'s disk, ms (±%)'),
  flat('cpuProbeMs', 'anchor: fixed CPU task, ms (±%)'),
  ...hosts.map((_, i) => growth(`host${i + 1}MiB`, `host ${i + 1} RSS MiB`)),
  growth('redisMaxMiB', 'Redis node RSS MiB, max'),
  { measure: 'soak: errors', kmslab: totalErrors, anchor: 0, anchorName: 'target', ratio: Number.NaN, target: '0' },
];
printTable(rows);
writeResults(`soak-${stamp()}`, { node: process.version, aofDir: AOF_DIR, minutes, rows });
const within = (r: Row) => (r.target === '< 1.05' ? r.ratio < 1.05 : r.target === '0.90–1.10' ? r.ratio >= 0.9 && r.ratio <= 1.1 : true);
process.exitCode = totalErrors === 0 && rows.every(within) ? 0 : 1;
