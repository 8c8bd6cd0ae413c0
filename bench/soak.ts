/**
 * pnpm soak -- --minutes N — N minutes (default 30) of steady load against
 * two host processes (one host id each) on a Redis Cluster (3 primaries, 3
 * replicas), with client intervals accelerated to a few milliseconds: 300
 * client machines, 10 connections per host. Every minute: throughput, p99,
 * errors, and the RSS of each host and Redis process. Target: zero errors,
 * flat RSS (growth < 10 % from the end of minute 2 to the end).
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { KmsConnection } from '@kmslab/core';
import { RedisCluster, startKmslabProcess, type KmslabProcess } from '@kmslab/lab';
import { KMSLAB_BIN } from '../test/support/cli.js';
import { printTable, stamp, writeResults, type Row } from './report.js';

const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { minutes: { type: 'string', default: '30' } } });
const MINUTES = Math.max(1, Number(values.minutes));
const rssMiB = (pid: number | undefined) => {
  if (!pid) return 0;
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
};

console.error(`soak — ${MINUTES} min, Node ${process.version}`);
await using cluster = await RedisCluster.start({ primaries: 3, replicas: 1 });
const hosts: KmslabProcess[] = [];
for (const id of ['soak-a', 'soak-b']) {
  hosts.push(await startKmslabProcess([process.execPath, KMSLAB_BIN], ['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--store', 'redis', '--redis-cluster', cluster.seeds, '--host-id', id, '--log-level', 'warn']));
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
  await new Promise((r) => setTimeout(r, Math.max(0, Math.min(60_000, end - Date.now()))));
  const sorted = latencies.sort((a, b) => a - b);
  const row: Record<string, number> = {
    minute: m,
    perSecond: Math.round(requests / 60),
    p99Ms: +(sorted[Math.floor(sorted.length * 0.99)] ?? 0).toFixed(2),
    errors,
    ...Object.fromEntries(hosts.map((h, i) => [`host${i + 1}MiB`, rssMiB(h.proc.pid)])),
    redisMaxMiB: Math.max(...cluster.nodes.map((n) => rssMiB(n.pid))),
  };
  minutes.push(row);
  console.error(`  minute ${m}: ${row.perSecond}/s p99 ${row.p99Ms} ms errors ${row.errors} RSS host ${hosts.map((_, i) => row[`host${i + 1}MiB`]).join('/')} MiB, Redis max ${row.redisMaxMiB} MiB`);
  latencies = [];
  requests = 0;
}
await load;
for (const h of hosts) await h.stop();

const base = minutes[Math.min(1, minutes.length - 1)]!;
const last = minutes.at(-1)!;
const totalErrors = minutes.reduce((s, m) => s + m.errors!, 0);
const rows: Row[] = [
  ...hosts.map((_, i) => ({ measure: `soak: host ${i + 1} RSS, end vs minute ${base.minute} (MiB)`, kmslab: last[`host${i + 1}MiB`]!, anchor: base[`host${i + 1}MiB`]!, anchorName: `minute ${base.minute}`, ratio: last[`host${i + 1}MiB`]! / base[`host${i + 1}MiB`]!, target: '< 1.10' })),
  { measure: 'soak: Redis node RSS, max, end vs minute 2 (MiB)', kmslab: last.redisMaxMiB!, anchor: base.redisMaxMiB!, anchorName: `minute ${base.minute}`, ratio: last.redisMaxMiB! / base.redisMaxMiB!, target: '< 1.10' },
  { measure: 'soak: errors', kmslab: totalErrors, anchor: 0, anchorName: 'target', ratio: Number.NaN, target: '0' },
];
printTable(rows);
writeResults(`soak-${stamp()}`, { node: process.version, minutes, rows });
process.exitCode = totalErrors === 0 && rows.slice(0, -1).every((r) => r.ratio < 1.1) ? 0 : 1;
