import { formatMinute, Simulation } from '../simulation.js';
import { scenarioReport } from '../report/scenario-report.js';
import type { Check, RunOptions, ScenarioResult } from '../scenarios/scenario.js';
import { TIME } from '@kmslab/core';
import type { ResourceRecord } from '@kmslab/dns-wire';
import type { ScenarioFile } from './load-scenario.js';

/** Runs a scenario file on the virtual clock: hosts, clients joining and leaving, events and expectations in time order. */
export async function runScenarioFile(s: ScenarioFile, options: RunOptions = {}): Promise<ScenarioResult> {
  await using sim = new Simulation({ seed: options.seed, live: options.live, store: s.store, pace: options.pace });
  options.onSimulation?.(sim);
  const removedSrv: ResourceRecord[] = [];
  if (s.dns) await sim.useDns(s.dns.zone, { secure: s.dns.secure, aging: s.dns.aging, secondaries: s.dns.secondaries });
  for (const h of s.hosts) await sim.startHost(h);
  const groups = new Map<string, string[]>();
  for (const c of s.clients) {
    const names: string[] = [];
    for (let i = 0; i < c.count; i++) {
      const name = c.count === 1 ? c.name : `${c.name}-${String(i + 1).padStart(String(c.count).length, '0')}`;
      sim.addClient(name, c.product, c.join + i * c.every, { dns: c.discovery === 'dns', ...(c.server && { server: c.server }) });
      if (c.leave !== null) sim.removeClient(name, c.leave);
      names.push(name);
    }
    groups.set(c.name, names);
  }
  const faults = new Map<number, string>();
  const steps = [
    ...s.events.map((e, i) => ({ at: e.at, order: 0, run: async () => applyEvent(sim, e, groups, removedSrv, (id) => faults.set(i, id)) })),
    // A dns-fault with an end: switched off at that time, before the checks of that minute.
    ...s.events.flatMap((e, i) => (e.do === 'dns-fault' && e.end !== undefined ? [{ at: e.end, order: 0, run: async () => sim.removeDnsFault(faults.get(i)!, e.rule!) }] : [])),
    ...s.expect.map((x) => ({ at: x.at, order: 1, run: async () => checks.push(await evaluate(sim, x, groups)) })),
  ].sort((a, b) => a.at - b.at || a.order - b.order);
  const checks: Check[] = [];
  const end = steps.at(-1)?.at ?? 0;
  for (const step of steps) {
    await sim.runUntil(step.at);
    await step.run();
    options.onProgress?.(end ? step.at / end : 1);
  }
  checks.push(await sim.acknowledgedCheck());
  return { scenario: s.name, description: s.description, passed: checks.every((c) => c.passed), checks, timeline: sim.timeline, kmsEvents: sim.kmsEvents.after(), report: scenarioReport(sim, s, checks) };
}

async function applyEvent(sim: Simulation, e: ScenarioFile['events'][number], groups: Map<string, string[]>, removedSrv: ResourceRecord[], faultAdded: (id: string) => void): Promise<void> {
  switch (e.do) {
    case 'dns-fault':
      faultAdded(await sim.addDnsFault(e.rule!));
      return;
    case 'dns-grant':
      return sim.grantDns(e.group!, e.hosts!, e.name!);
    case 'host-down':
      return sim.stopHost(e.host!);
    case 'host-up':
      return sim.restartHost(e.host!);
    case 'srv-remove':
      removedSrv.push(...(await sim.removeSrv()));
      return;
    case 'srv-restore':
      return sim.restoreSrv(removedSrv.splice(0));
    case 'redis-down':
      return sim.stopRedis();
    case 'redis-up':
      return sim.startRedis();
    case 'clock-jump':
      if (e.host) return sim.jumpHostClock(e.host, e.by! * TIME.MINUTE_MS);
      return sim.jumpClientClocks(groups.get(e.clients!) ?? [], e.by! * TIME.MINUTE_MS, e.clients);
    case 'set-mak':
      sim.note(`${e.clients} MAK ${e.key}`);
      for (const n of groups.get(e.clients!) ?? []) sim.client(n).makKey = e.key!;
  }
}

async function evaluate(sim: Simulation, x: ScenarioFile['expect'][number], groups: Map<string, string[]>): Promise<Check> {
  const when = formatMinute(x.at);
  if (x.count !== undefined) {
    const status = await sim.hostNamed(x.host).status();
    const count = status.families[x.family]?.currentCount ?? 0;
    return { name: `${when}: ${x.host ?? 'the host'} count for ${x.family} is ${x.count}`, passed: count === x.count, detail: `count ${count}` };
  }
  const names = x.clients ? (groups.get(x.clients) ?? []) : [...groups.values()].flat();
  const licensed = names.filter((n) => sim.client(n).licenseStatus === 'licensed').length;
  return { name: `${when}: ${x.licensed} of ${x.clients ?? 'all'} clients licensed`, passed: licensed === x.licensed, detail: `${licensed} of ${names.length} licensed` };
}
