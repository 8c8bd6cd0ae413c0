import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COUNT_WINDOW_MS, MAX_CLIENT_RECORDS } from '@kmslab/core';
import { Redis } from 'ioredis';

export interface RedisBenchmarkResult {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const LUA = readFileSync(fileURLToPath(new URL('../packages/host/src/store/record-requests.lua', import.meta.url)), 'utf8');

/**
 * The anchor: redis-benchmark running the host's own Lua script (same keys
 * shape, one request per call with a random CMID) at the same concurrency,
 * against the same Redis, in the same run.
 */
export async function redisBenchmarkLua(o: { url: string; port: number; connections: number; requests: number }): Promise<RedisBenchmarkResult> {
  const client = new Redis(o.url);
  const sha = (await client.script('LOAD', LUA)) as string;
  client.disconnect();
  const now = Date.now();
  const args = [
    '-h', '127.0.0.1', '-p', String(o.port), '-c', String(o.connections), '-n', String(o.requests), '-r', '1000000', '--csv',
    'EVALSHA', sha, '2', 'kmslab:{bench:windows}:clients', 'kmslab:{bench:windows}:stats',
    String(COUNT_WINDOW_MS), String(MAX_CLIENT_RECORDS), String(now), '__rand_int__', '25', 'initial-grace',
  ];
  const csv = await new Promise<string>((resolve, reject) =>
    execFile('redis-benchmark', args, { timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`redis-benchmark failed: ${stderr || err.message}`)) : resolve(stdout))),
  );
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const row = csv.trim().split('\n').at(-1)!.split(',').map((c) => c.replace(/"/g, ''));
  return { perSecond: Number(row[1]), p50Ms: Number(row[4]), p99Ms: Number(row[6]) };
}
