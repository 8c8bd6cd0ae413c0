import { describe, expect, test } from 'vitest';
import { runCli } from './support/cli.js';
import { expectWalkthroughTimeline } from './support/walkthrough.js';
import { requireRedisServer } from './support/redis-server.js';

interface Result {
  passed: boolean;
  checks: Array<{ name: string; passed: boolean; detail: string }>;
  timeline: Array<{ minute: number; client: string; count: number | null; licensed: boolean; errorCode: string | null; reason: string | null; host: string | null }>;
  summary: { mode: string; store: string };
}

async function runLive(args: string[]): Promise<Result> {
  requireRedisServer();
  const r = await runCli(['lab', 'run', ...args, '--live', '--json'], { timeoutMs: 120_000 });
  expect(r.code, `${r.stderr}\n${r.stdout.slice(-3000)}`).toBe(0);
  return JSON.parse(r.stdout) as Result;
}

/** `--live`: hosts (and DNS) are kmslab processes with a Redis store; the runner sets their clocks. */
describe('kmslab lab run --live', () => {
  test('reference-walkthrough against host processes with Redis: counts 2, 3, 13, the server at its next contact', { timeout: 150_000 }, async () => {
    const result = await runLive(['reference-walkthrough']);
    expect(result.summary).toMatchObject({ mode: 'live', store: 'redis' });
    expect(result.checks.every((c) => c.passed)).toBe(true);
    expectWalkthroughTimeline(result.timeline);
    expect(result.checks.at(-1)!.name).toMatch(/no acknowledged activation lost/);
  });

  test('a Redis outage: clients hear "host unavailable", retry, and no acknowledged activation is missing after recovery', { timeout: 150_000 }, async () => {
    const result = await runLive(['redis-outage']);
    const unavailable = result.timeline.filter((e) => e.reason === 'KMSLAB_HOST_UNAVAILABLE');
    expect(unavailable.length).toBeGreaterThan(10);
    expect(unavailable.every((e) => e.minute > 125 && e.minute <= 245 && e.count === null)).toBe(true);
    expect(result.checks.find((c) => /acknowledged activation lost/.test(c.name))).toMatchObject({ passed: true, detail: '30 acknowledged clients, all counted' });
    expect(result.passed).toBe(true);
  });

  test('a scenario file with DNS publishing, failover, Redis down/up and clock jumps passes live as it does in-process', { timeout: 150_000 }, async () => {
    const clocks = await runLive(['packages/lab/scenarios/redis-and-clocks.yaml']);
    expect(clocks.timeline.some((e) => e.errorCode === '0xC004F06C' && e.client.startsWith('lab-pc'))).toBe(true);
    expect(clocks.checks.every((c) => c.passed)).toBe(true);
    const offices = await runLive(['packages/lab/scenarios/branch-offices.yaml']);
    expect(offices.checks.every((c) => c.passed)).toBe(true);
    expect(new Set(offices.timeline.map((e) => e.host?.split('.')[0]))).toEqual(new Set(['kms-main', 'kms-backup']));
  });
});
