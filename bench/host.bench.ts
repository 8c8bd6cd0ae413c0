/**
 * pnpm bench:host — KMS host throughput and latency, against anchors started
 * in the same run (DEVELOPERS.md "Performance is measured, not timed in tests").
 *
 *   closed loop, 50 connections: memory store, Redis store, and redis-benchmark
 *   running the host's Lua script at the same concurrency;
 *   open loop at half each store's maximum, spread over 1,000 connections: p99;
 *   the bare-Node ceiling (a server that answers with one pre-encoded frame)
 *   under the same loads, to show what the machine and the load generator
 *   alone cost (both share the two cores); and the durable ceiling, the same
 *   server appending each turn's requests to a journal on this disk before
 *   answering, as the memory store does (bench/bare-node-ceiling.ts).
 *
 * Options: --seconds N (per measure, default 8), --connections N (default 50).
 * Everything runs on loopback and stops by itself.
 */
import { parseArgs } from 'node:util';
import { RedisServer } from '@kmslab/lab/live';
import { startCliHost, type CliHost } from '../test/support/cli.js';
import { tempDir } from '../test/support/kms-host.js';
import { closedLoop, openLoop, requestFrames, type LoadResult } from './load/kms-load.js';
import { redisBenchmarkLua } from './redis-benchmark.js';
import { isMain, printTable, stamp, writeResults, type Row } from './report.js';
import { startBareCeiling } from './bare-node-ceiling.js';

export interface HostBenchOptions {
  seconds: number;
  connections: number;
}

let seconds = 8;
let connections = 50;
let durationMs = seconds * 1000;
const frames = requestFrames('windows-7-professional');

function fmt(r: LoadResult): string {
  return `${Math.round(r.perSecond)}/s p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms${r.errors ? ` errors ${r.errors}` : ''}`;
}

async function measure(name: string, port: number, openRate?: number): Promise<{ closed: LoadResult; open: LoadResult }> {
  const closed = await closedLoop({ port, connections, warmupMs: 1500, durationMs, frames });
  console.error(`  ${name} closed loop (${connections} conns): ${fmt(closed)}`);
  const rate = openRate ?? Math.floor(closed.perSecond / 2);
  const open = await openLoop({ port, connections: 1000, rate, warmupMs: 1500, durationMs, frames });
  console.error(`  ${name} open loop (1000 conns at ${rate}/s): ${fmt(open)}, generator lag p99 ${open.lagP99Ms.toFixed(2)} ms`);
  return { closed, open };
}

/** Both stores and the anchors, one after another; rows for the bench table. */
export async function benchHost(options: HostBenchOptions): Promise<{ rows: Row[]; details: unknown }> {
  ({ seconds, connections } = options);
  durationMs = seconds * 1000;
  console.error(`bench:host — ${seconds} s per measure, ${connections} connections, Node ${process.version}`);
  await using redis = await RedisServer.start({ durable: false });
  await using dir = tempDir('kmslab-bench-');
  const quiet = ['--log-level', 'info', '--log-format', 'json'];

  let memory;
  {
    await using host = await startCliHost(['--data-dir', dir.path, ...quiet], { logFile: `${dir.path}/memory-host.log` });
    memory = await measure('memory store', host.port);
  }
  let redisStore;
  {
    await using host = await startCliHost(['--store', 'redis', '--redis-url', redis.url, '--host-id', 'bench', ...quiet], { logFile: `${dir.path}/redis-host.log` });
    redisStore = await measure('redis store', host.port);
  }
  const bare = await startBareCeiling();
  const ceiling = await measure('bare Node ceiling', bare.port, Math.floor(memory.closed.perSecond / 2));
  await bare.close();
  // The same server appending each turn's requests to a journal on this disk before answering (the memory store's group commit).
  const journaled = await startBareCeiling({ journalDir: dir.path });
  const durable = await measure('durable Node ceiling', journaled.port, Math.floor(memory.closed.perSecond / 2));
  await journaled.close();
  const anchor = await redisBenchmarkLua({ url: redis.url, port: redis.port, connections, requests: Math.max(50_000, Math.round(redisStore.closed.perSecond * seconds * 2)) });
  console.error(`  redis-benchmark EVALSHA (${connections} conns): ${Math.round(anchor.perSecond)}/s p50 ${anchor.p50Ms} ms p99 ${anchor.p99Ms} ms`);

  const rows: Row[] = [
    { measure: `host: redis store, closed loop ${connections} conns (req/s)`, kmslab: redisStore.closed.perSecond, anchor: anchor.perSecond, anchorName: 'redis-benchmark Lua', target: '≥ 0.5 (stretch 1.0)', ratio: redisStore.closed.perSecond / anchor.perSecond },
    { measure: `host: memory store, closed loop ${connections} conns (req/s)`, kmslab: memory.closed.perSecond, anchor: redisStore.closed.perSecond, anchorName: 'redis store', target: '≥ 2.0', ratio: memory.closed.perSecond / redisStore.closed.perSecond },
    { measure: `host: memory store, closed loop ${connections} conns (req/s)`, kmslab: memory.closed.perSecond, anchor: durable.closed.perSecond, anchorName: 'durable Node ceiling', target: '≥ 0.85', ratio: memory.closed.perSecond / durable.closed.perSecond },
    { measure: `host: memory store, closed loop ${connections} conns (req/s)`, kmslab: memory.closed.perSecond, anchor: ceiling.closed.perSecond, anchorName: 'bare Node ceiling', target: '≥ 0.75', ratio: memory.closed.perSecond / ceiling.closed.perSecond },
    { measure: 'host: memory store, open loop ½ max, 1000 conns: p99 (ms)', kmslab: memory.open.p99Ms, anchor: ceiling.open.p99Ms, anchorName: 'ceiling, same rate', target: '< 5 ms', ratio: memory.open.p99Ms / ceiling.open.p99Ms },
    { measure: 'host: redis store, open loop ½ max, 1000 conns: p99 (ms)', kmslab: redisStore.open.p99Ms, anchor: ceiling.open.p99Ms, anchorName: 'ceiling, memory rate', target: '< 5 ms', ratio: redisStore.open.p99Ms / ceiling.open.p99Ms },
  ];
  return { rows, details: { memory, redisStore, anchor, ceiling, durable } };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, connections: { type: 'string', default: '50' } } });
  const options = { seconds: Number(values.seconds), connections: Number(values.connections) };
  const { rows, details } = await benchHost(options);
  printTable(rows);
  writeResults(`host-${stamp()}`, { node: process.version, ...options, ...(details as object), rows });
}
