import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { KmsLabError } from '@kmslab/core';
import type { ScenarioResult } from '@kmslab/lab';
import { intOption, numberOption, writableFileOption } from '../options.js';
import { printJson, table } from '../output.js';
import { progressBar } from '../progress.js';

/** This kmslab, for the processes of a `--live` run. */
const KMSLAB = [process.execPath, fileURLToPath(new URL('../bin.js', import.meta.url))];

/** `--report FILE`: checked before the run (a long run must not end in "cannot write"). */
const reportOption = writableFileOption('--report');
const eventsOption = writableFileOption('--events');

interface ReportOptions {
  json?: boolean;
  report?: string;
  /** Every Windows event of the run, one JSON line each (the JSON output counts them only: a long run logs thousands). */
  events?: string;
}

/** Runs with a progress bar (on a terminal, long runs only), then prints the result (narrated or JSON), writes the report files, sets the exit code. */
async function runAndReport(label: string, o: ReportOptions, run: (onProgress: (done: number) => void) => Promise<ScenarioResult>): Promise<void> {
  const progress = progressBar(label);
  let result: ScenarioResult;
  try {
    result = await run(progress.update);
  } finally {
    progress.stop();
  }
  const { narrate, renderReportHtml } = await import('@kmslab/lab');
  if (o.report) {
    const summaryPath = o.report.replace(/\.html?$/i, '') + '.json';
    writeFileSync(o.report, renderReportHtml(result.report));
    writeFileSync(summaryPath, `${JSON.stringify({ scenario: result.scenario, passed: result.passed, checks: result.checks, summary: result.report.summary }, null, 2)}\n`);
    process.stderr.write(`report: ${o.report}, summary: ${summaryPath}\n`);
  }
  if (o.events) {
    writeFileSync(o.events, result.kmsEvents.map((e) => `${JSON.stringify(e)}\n`).join(''));
    process.stderr.write(`events: ${o.events} (${result.kmsEvents.length})\n`);
  }
  const { report, kmsEvents: _events, ...rest } = result;
  if (o.json) printJson({ ...rest, summary: report.summary });
  else process.stdout.write(`${narrate(result)}\n`);
  process.exitCode = result.passed ? 0 : 1;
}

export function labCommand(): Command {
  const lab = new Command('lab').description('scenarios on a virtual clock, driving the real host and client code; the fleet model; reports');
  lab.addCommand(
    new Command('list').description('list the built-in scenarios').option('--json', 'print JSON: [{ name, description }]').action(async (o: { json?: boolean }) => {
      const { SCENARIOS } = await import('@kmslab/lab');
      if (o.json) return printJson(Object.entries(SCENARIOS).map(([name, s]) => ({ name, description: s.description })));
      process.stdout.write(`${table([['NAME', 'DESCRIPTION'], ...Object.entries(SCENARIOS).map(([n, s]) => [n, s.description])])}\n`);
    }),
  );
  lab.addCommand(
    new Command('run')
      .description('run a scenario and print its narrated timeline and checks; exit 1 when a check fails')
      .argument('<name|file>', 'a built-in scenario (kmslab lab list) or a scenario file (.yaml)')
      .option('--json', 'print JSON (timeline, checks, summary)')
      .option('--report <file.html>', 'write an HTML report (SVG charts, opens offline) and its JSON summary beside it (.json)', reportOption)
      .option('--events <file.jsonl>', "write every Windows event the run's hosts and clients logged (12288, 12289, 12290), one JSON line each", eventsOption)
      .option('--seed <n>', 'seed for SRV weighting and the fleet', intOption('--seed', 0, 2 ** 31))
      .option('--live', 'run hosts and DNS as kmslab processes on loopback with a redis-server of their own (needs redis-server on PATH)')
      .option('--dashboard <host:port>', 'watch the run on the dashboard there, paced by a lab clock (pause, speed, jumps); it stays up after the run until Ctrl-C')
      .option('--speed <x>', 'with --dashboard: lab time runs this many times faster than real time', numberOption('--speed', 1, 1_000_000), 720)
      .action(async (name: string, o: ReportOptions & { seed?: number; live?: boolean; dashboard?: string; speed: number }) => {
        const { SCENARIOS, loadScenarioFile, runScenarioFile } = await import('@kmslab/lab');
        const isFile = /\.ya?ml$/i.test(name) || existsSync(name);
        const scenario = SCENARIOS[name];
        if (!scenario && !isFile) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `No scenario "${name}"; kmslab lab list shows them, or give a .yaml file`);
        if (o.live && name === 'fleet') throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'The fleet is a model, not processes: run it without --live');
        if (o.dashboard && name === 'fleet') throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'The fleet is a model: its report shows it (--report); --dashboard watches scenarios and kmslab up');
        const watched = o.dashboard ? (await import('./lab-dashboard.js')).runDashboard(o.dashboard, o.speed) : null;
        try {
          await runAndReport(name.replace(/^.*\//, ''), o, (onProgress) => {
            const options = { seed: o.seed, live: o.live ? { kmslab: KMSLAB } : undefined, onProgress, ...(watched && { pace: watched.pace, onSimulation: watched.onSimulation }) };
            return scenario ? scenario.run(options) : runScenarioFile(loadScenarioFile(name), options);
          });
          if (watched) {
            process.stderr.write('kmslab: the run is over; the dashboard stays up until Ctrl-C\n');
            await new Promise<void>((resolve) => {
              process.once('SIGINT', () => resolve());
              process.once('SIGTERM', () => resolve());
            });
          }
        } finally {
          await watched?.close();
        }
      }),
  );
  lab.addCommand(
    new Command('fleet')
      .description('run the fleet model: many clients over months on the KMS schedule (arrivals, retries, renewals, departures, an outage)')
      .option('--clients <n>', 'client machines', intOption('--clients', 1, 20_000_000), 100_000)
      .option('--days <n>', 'virtual days', intOption('--days', 1, 3650), 180)
      .option('--hosts <n>', 'hosts by SRV priority 0, 10, 20…', intOption('--hosts', 1, 100), 2)
      .option('--arrival-days <n>', 'machines join over the first N days', numberOption('--arrival-days', 0, 3650), 30)
      .option('--departures <share>', 'share of machines that leave at a random time', numberOption('--departures', 0, 1), 0.1)
      .option('--outage <from-to>', 'host 0 down between these days, e.g. 60-63 ("none" for no outage)', '60-63')
      .option('--no-host-caching', 'clients do not remember the host that answered')
      .option('--seed <n>', 'seed for arrivals, products and departures', intOption('--seed', 0, 2 ** 31), 1)
      .option('--json', 'print JSON (checks and summary)')
      .option('--report <file.html>', 'write an HTML report (SVG charts) and its JSON summary beside it (.json)', reportOption)
      .action(async (o: ReportOptions & { clients: number; days: number; hosts: number; arrivalDays: number; departures: number; outage: string; hostCaching: boolean; seed: number }) => {
        const { fleetScenario } = await import('@kmslab/lab');
        const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(o.outage);
        if (o.outage !== 'none' && (!m || Number(m[1]) >= Number(m[2]))) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--outage must be FROM-TO in days, e.g. 60-63, or none (got "${o.outage}")`);
        const outages = m && o.hosts > 0 ? [{ host: 0, from: Number(m[1]) * 1440, to: Number(m[2]) * 1440 }] : [];
        await runAndReport('fleet', o, (onProgress) =>
          fleetScenario({ onProgress, fleet: { clients: o.clients, days: o.days, hosts: o.hosts, arrivalDays: o.arrivalDays, departures: o.departures, outages, hostCaching: o.hostCaching, seed: o.seed } }),
        );
      }),
  );
  return lab;
}
