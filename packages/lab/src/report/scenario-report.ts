import { Catalog, TIME, type KmsEvent } from '@kmslab/core';
import { SAMPLE_STEP_MIN, type Simulation } from '../simulation.js';
import type { Check } from '../scenarios/check.js';
import { CLIENT_STATES, type ReportData } from './report-data.js';

/** A scenario run as report data: counts as the hosts answered them, sampled client states, requests per hour per host. */
export function scenarioReport(sim: Simulation, meta: { name: string; description: string }, checks: readonly Check[], catalog = Catalog.load()): ReportData {
  const minutes = sim.minute;
  const hours = Math.max(1, Math.ceil(minutes / 60));
  const counts = new Map<string, ReportData['counts'][number]>();
  const requests = new Map<string, number[]>();
  const thresholds = new Map<string, ReportData['thresholds'][number]>();
  // Hosts by name: their addresses change from run to run.
  const hostName = (address: string) => sim.hostAt(address)?.name ?? address;
  for (const e of sim.timeline) {
    const p = catalog.product(e.product);
    thresholds.set(`${p.family}/${e.threshold}`, { family: p.family, kind: p.kind, value: e.threshold });
    if (!e.host) continue;
    const host = hostName(e.host);
    const perHour = requests.get(host) ?? new Array<number>(hours).fill(0);
    perHour[Math.min(hours - 1, Math.floor(e.minute / 60))]!++;
    requests.set(host, perHour);
    if (e.count === null) continue;
    const key = `${host} ${p.family}`;
    const series = counts.get(key) ?? { host, family: p.family, points: [] };
    series.points.push([e.minute, e.count]);
    counts.set(key, series);
  }
  const last = Object.fromEntries(CLIENT_STATES.map((s) => [s, sim.states[s].at(-1) ?? 0]));
  const windowsEvents = countEvents(sim.kmsEvents.after());
  return {
    title: `Scenario: ${meta.name}`,
    description: meta.description,
    start: new Date(sim.clock.now() - minutes * TIME.MINUTE_MS).toISOString(),
    minutes,
    thresholds: [...thresholds.values()],
    counts: [...counts.values()],
    states: { step: SAMPLE_STEP_MIN, series: sim.states },
    requests: [...requests].map(([host, perHour]) => ({ host, perHour })),
    events: sim.events,
    windowsEvents,
    checks: [...checks],
    summary: {
      scenario: meta.name,
      passed: checks.every((c) => c.passed),
      mode: sim.live ? 'live' : 'in-process',
      store: sim.store,
      contacts: sim.timeline.length,
      licensedContacts: sim.timeline.filter((e) => e.licensed).length,
      requestsByHost: Object.fromEntries([...requests].map(([h, a]) => [h, a.reduce((s, x) => s + x, 0)])),
      finalCounts: Object.fromEntries([...counts.values()].map((c) => [`${c.host} ${c.family}`, c.points.at(-1)![1]])),
      finalStates: last,
      windowsEvents: Object.fromEntries(windowsEvents.map((e) => [`${e.id} ${e.hresult}`, e.count])),
    },
  };
}

/** Events counted by id and HRESULT, by id then most frequent first. */
export function countEvents(events: readonly KmsEvent[]): Array<{ id: number; hresult: string; count: number }> {
  const counts = new Map<string, { id: number; hresult: string; count: number }>();
  for (const e of events) {
    const hresult = 'hresult' in e ? e.hresult : '0x0';
    const key = `${e.id} ${hresult}`;
    const c = counts.get(key) ?? { id: e.id, hresult, count: 0 };
    c.count++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => a.id - b.id || b.count - a.count);
}
