import { Simulation, type TimelineEntry } from '../simulation.js';
import type { ReportData } from '../report/report-data.js';
import { scenarioReport } from '../report/scenario-report.js';

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
  /** Charts and summary for `--report` (not part of the JSON output). */
  report: ReportData;
}

export type CheckFn = (name: string, passed: boolean, detail: string) => void;

/** Options every scenario run takes (`kmslab lab run`). */
export interface RunOptions {
  seed?: number;
}

/** Runs a scenario body on a fresh Simulation, collects its checks and builds the result; the lab is closed afterwards. */
export async function runScenario(
  meta: { name: string; description: string; seed?: number },
  body: (sim: Simulation, check: CheckFn) => Promise<void>,
): Promise<ScenarioResult> {
  await using sim = new Simulation({ seed: meta.seed });
  const checks: Check[] = [];
  await body(sim, (name, passed, detail) => checks.push({ name, passed, detail }));
  return { scenario: meta.name, description: meta.description, passed: checks.every((c) => c.passed), checks, timeline: sim.timeline, report: scenarioReport(sim, meta, checks) };
}
