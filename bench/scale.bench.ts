/**
 * pnpm bench:scale — activations/s of one host process on each Redis
 * topology at the same concurrency, in one run: a single Redis, Sentinel (1
 * primary, 1 replica, 3 sentinels), and Redis Cluster with 1 and with 3
 * primaries. The load mixes three families (Windows, Office 2013, Office
 * 2010), whose keys hash to different slots, so a 3-primary cluster can spread
 * them. Then the fleet model's projection: how many clients one host and one
 * cluster can serve at the default 2-hour retry / 7-day renewal cadence.
 *
 * Options: --seconds N (per measure, default 8), --connections N (default 50).
 * Redis without append-only files here (durability is measured in the tests,
 * not the speed of fsync); everything on loopback, stops by itself.
 */
import { parseArgs } from 'node:util';
import { planFleet, runFleet } from '@kmslab/lab';
import { RedisServer } from '@kmslab/lab/live';
import { RedisCluster, RedisSentinelSetup } from '@kmslab/test-redis';
import { startCliHost } from '../test/support/cli.js';
import { tempDir } from '../test/support/kms-host.js';
import { closedLoop, requestFrames, type LoadResult } from './load/kms-load.js';
import { isMain, printTable, stamp, writeResults, type Row } from './report.js';

const PRODUCTS = ['windows-10-enterprise', 'office-2013-professional-plus', 'office-2010-professional-plus'];

export async function benchScale(o: { seconds: number; connections: number }): Promise<{ rows: Row[]; results: Record<string, LoadResult>; projection: Record<string, number> }> {
  console.error(`bench:scale — ${o.seconds} s per store, ${o.connections} connections, Node ${process.version}`);
  const frames = PRODUCTS.flatMap((p) => requestFrames(p, 2048));
  await using dir = tempDir('kmslab-bench-scale-');
  const results: Record<string, LoadResult> = {};
  const measure = async (name: string, storeArgs: string[]) => {
    await using host = await startCliHost(['--store', 'redis', ...storeArgs, '--host-id', 'scale', '--license-pack', 'office-2013', '--license-pack', 'office-2010', '--log-level', 'warn'], { logFile: `${dir.path}/${name.replace(/\W+/g, '-')}.log` });
    const r = await closedLoop({ port: host.port, connections: o.connections, warmupMs: 1500, durationMs: o.seconds * 1000, frames });
    console.error(`  ${name}: ${Math.round(r.perSecond)}/s p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms${r.errors ? ` errors ${r.errors}` : ''}`);
    results[name] = r;
  };
  {
    await using redis = await RedisServer.start({ durable: false });
    await measure('single Redis', ['--redis-url', redis.url]);
  }
  {
    await using sentinel = await RedisSentinelSetup.start({ replicas: 1, sentinels: 3, durable: false });
    await measure('Sentinel 1+1', ['--redis-sentinels', sentinel.sentinelList, '--redis-master-name', sentinel.name]);
  }
  {
    await using cluster = await RedisCluster.start({ primaries: 1, replicas: 0, durable: false });
    await measure('Cluster, 1 primary', ['--redis-cluster', cluster.seeds]);
  }
  {
    await using cluster = await RedisCluster.start({ primaries: 3, replicas: 0, durable: false });
    await measure('Cluster, 3 primaries', ['--redis-cluster', cluster.seeds]);
  }

  // The fleet model's load: peak requests per hour per client (arrivals and 2 h retries) and the steady renewal rate.
  const fleet = runFleet(planFleet({ clients: 100_000, seed: 1 }));
  const total = fleet.requests.reduce((sum, r) => sum + r.perHour.reduce((a, b) => a + b, 0), 0);
  const hours = fleet.requests[0]!.perHour.length;
  const peakPerHour = Math.max(...Array.from({ length: hours }, (_, h) => fleet.requests.reduce((s, r) => s + r.perHour[h]!, 0)));
  const peakPerClientPerSecond = peakPerHour / 3600 / 100_000;
  const steadyPerClientPerSecond = fleet.requests.reduce((s, r) => s + r.perHour.slice(-24 * 30).reduce((a, b) => a + b, 0), 0) / (30 * 86_400) / 100_000;
  const single = results['single Redis']!.perSecond;
  const cluster3 = results['Cluster, 3 primaries']!.perSecond;
  const projection = {
    peakRequestsPerHourPer100k: peakPerHour,
    totalRequests100k180d: total,
    clientsOneHostAtPeak: Math.floor(single / peakPerClientPerSecond),
    clientsOneHostSteady: Math.floor(single / steadyPerClientPerSecond),
    clientsOneClusterHostAtPeak: Math.floor(cluster3 / peakPerClientPerSecond),
    // A cold start: every machine installed at once and retrying every 2 hours until the count is reached.
    clientsOneHostColdStart: Math.floor(single * 7200),
  };
  console.error(`  fleet model, 100,000 clients: peak ${peakPerHour.toLocaleString('en-US')} requests/hour (first weeks), steady ${Math.round(steadyPerClientPerSecond * 100_000 * 3600).toLocaleString('en-US')}/hour (renewals)`);
  const rows: Row[] = [
    { measure: 'scale: Sentinel 1+1 (activations/s)', kmslab: results['Sentinel 1+1']!.perSecond, anchor: single, anchorName: 'single Redis', ratio: results['Sentinel 1+1']!.perSecond / single, target: '≈ 1 (same path)' },
    { measure: 'scale: Cluster, 1 primary (activations/s)', kmslab: results['Cluster, 1 primary']!.perSecond, anchor: single, anchorName: 'single Redis', ratio: results['Cluster, 1 primary']!.perSecond / single, target: '≈ 1' },
    { measure: 'scale: Cluster, 3 primaries (activations/s)', kmslab: cluster3, anchor: results['Cluster, 1 primary']!.perSecond, anchorName: 'Cluster, 1 primary', ratio: cluster3 / results['Cluster, 1 primary']!.perSecond, target: '(one host process: bound by the host)' },
    { measure: 'projection: clients one host serves at the peak cadence', kmslab: projection.clientsOneHostAtPeak, anchor: 100_000, anchorName: 'fleet model size', ratio: projection.clientsOneHostAtPeak / 100_000, target: '(context)' },
    { measure: 'projection: machines one host takes in one 2 h retry window (cold start)', kmslab: projection.clientsOneHostColdStart, anchor: 100_000, anchorName: 'fleet model size', ratio: projection.clientsOneHostColdStart / 100_000, target: '(context)' },
    { measure: 'projection: clients one host serves on renewals alone', kmslab: projection.clientsOneHostSteady, anchor: 100_000, anchorName: 'fleet model size', ratio: projection.clientsOneHostSteady / 100_000, target: '(context)' },
  ];
  return { rows, results, projection };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, connections: { type: 'string', default: '50' } } });
  const options = { seconds: Number(values.seconds), connections: Number(values.connections) };
  const { rows, results, projection } = await benchScale(options);
  printTable(rows);
  writeResults(`scale-${stamp()}`, { node: process.version, ...options, results, projection, rows });
}
