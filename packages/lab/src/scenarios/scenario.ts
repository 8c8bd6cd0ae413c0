import type { KmsEvent } from '@kmslab/core';
import { Simulation, type SimulationOptions, type TimelineEntry } from '../simulation.js';
import type { ReportData } from '../report/report-data.js';
import { scenarioReport } from '../report/scenario-report.js';
import type { Check, CheckFn } from './check.js';

export type { Check, CheckFn } from './check.js';

/** What a scenario run found: its timeline, checks and report. */
export interface ScenarioResult {
  scenario: string;
  description: string;
  passed: boolean;
  checks: Check[];
  timeline: TimelineEntry[];
  /** The Windows events its hosts and clients logged (12288, 12289, 12290; the newest 10,000), on the lab clock. */
  kmsEvents: KmsEvent[];
  /** Charts and summary for `--report` (not part of the JSON output). */
  report: ReportData;
}

/** Options every scenario run takes (`kmslab lab run`). */
export interface RunOptions {
  seed?: number;
  /** Hosts and DNS as kmslab processes with Redis (see SimulationOptions.live). */
  live?: SimulationOptions['live'];
  /** Called with the share of the run done (long runs show a progress bar). */
  onProgress?: (done: number) => void;
  /** Paces the run (SimulationOptions.pace): `lab run --dashboard`. */
  pace?: SimulationOptions['pace'];
  /** Told the simulation before it runs (the dashboard reads its hosts, clients and timeline). */
  onSimulation?: (sim: Simulation) => void;
}

/**
 * Runs a scenario body on a fresh Simulation, collects its checks, adds the
 * "no acknowledged activation lost" check and builds the result; the lab is
 * closed afterwards.
 */
export async function runScenario(
  meta: { name: string; description: string },
  options: RunOptions,
  body: (sim: Simulation, check: CheckFn) => Promise<void>,
  simulation: Omit<SimulationOptions, 'seed' | 'live'> = {},
): Promise<ScenarioResult> {
  await using sim = new Simulation({ ...simulation, seed: options.seed, live: options.live, pace: options.pace });
  options.onSimulation?.(sim);
  const checks: Check[] = [];
  await body(sim, (name, passed, detail) => checks.push({ name, passed, detail }));
  checks.push(await sim.acknowledgedCheck());
  options.onProgress?.(1);
  return { scenario: meta.name, description: meta.description, passed: checks.every((c) => c.passed), checks, timeline: sim.timeline, kmsEvents: sim.kmsEvents.after(), report: scenarioReport(sim, meta, checks) };
}
