import { MAX_CLIENT_RECORDS } from '@kmslab/core';
import { planFleet, type FleetOptions } from '../fleet/fleet-plan.js';
import { runFleet } from '../fleet/fleet-model.js';
import type { Check, RunOptions, ScenarioResult } from './scenario.js';

/**
 * The fleet model as a scenario (`kmslab lab run fleet`, `kmslab lab fleet
 * --clients N`): no timeline (too many contacts to print), checks on the
 * whole run, and the report's charts.
 */
export async function fleetScenario(options: RunOptions & { fleet?: FleetOptions } = {}): Promise<ScenarioResult> {
  const started = performance.now();
  const plan = planFleet({ ...options.fleet, seed: options.fleet?.seed ?? options.seed });
  const report = runFleet(plan, { onProgress: options.onProgress });
  const s = report.summary as { clients: number; unanswered: number; finalStates: Record<string, number>; requestsByHost: Record<string, number> };
  const peak = Math.max(0, ...report.counts.flatMap((c) => c.points.map((p) => p[1])));
  const firstOutage = plan.outages[0];
  const backupBefore = firstOutage ? report.requests.filter((r) => r.host !== `host-${firstOutage.host}`).reduce((n, r) => n + r.perHour.slice(0, Math.floor(firstOutage.from / 60)).reduce((a, b) => a + b, 0), 0) : 0;
  const checks: Check[] = [
    { name: 'every client still on the network is licensed at the end', passed: s.finalStates.licensed! + s.finalStates.left! === s.clients, detail: `${s.finalStates.licensed} licensed, ${s.finalStates.left} left, of ${s.clients}` },
    { name: 'no contact went unanswered (another host took over during the outage)', passed: s.unanswered === 0 || plan.hosts === 1, detail: `${s.unanswered} unanswered` },
    { name: `counts never exceed ${MAX_CLIENT_RECORDS} records`, passed: peak <= MAX_CLIENT_RECORDS, detail: `peak ${peak}` },
    ...(firstOutage ? [{ name: 'the other hosts see no request before the first outage (SRV priority)', passed: backupBefore === 0, detail: `${backupBefore} requests` }] : []),
  ];
  report.checks = checks;
  report.summary = { ...report.summary, elapsedMs: Math.round(performance.now() - started), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
  // The fleet model counts contacts in arrays; it logs no Windows events.
  return { scenario: 'fleet', description: report.description, passed: checks.every((c) => c.passed), checks, timeline: [], kmsEvents: [], report };
}
