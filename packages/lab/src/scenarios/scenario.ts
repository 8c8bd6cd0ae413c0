import { Simulation, type TimelineEntry } from '../simulation.js';

export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  passed: boolean;
  checks: Check[];
  timeline: TimelineEntry[];
}

export type CheckFn = (name: string, passed: boolean, detail: string) => void;

/** Runs a scenario body on a fresh Simulation, collects its checks and builds the result; the lab is closed afterwards. */
export async function runScenario(
  meta: { name: string; description: string; seed?: number },
  body: (sim: Simulation, check: CheckFn) => Promise<void>,
): Promise<ScenarioResult> {
  await using sim = new Simulation({ seed: meta.seed });
  const checks: Check[] = [];
  await body(sim, (name, passed, detail) => checks.push({ name, passed, detail }));
  return { scenario: meta.name, description: meta.description, passed: checks.every((c) => c.passed), checks, timeline: sim.timeline };
}
