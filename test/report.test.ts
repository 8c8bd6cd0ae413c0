import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CLIENT_STATES, SCENARIOS, fleetScenario, type ReportData } from '@kmslab/lab';
import { launchChromium } from './support/chromium.js';
import { runCli } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kmslab-report-'));
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** Opens the report offline; any page error, console error or request other than the file itself fails the test. */
async function open(file: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('request', (r) => r.url() !== pathToFileURL(file).href && problems.push(`request: ${r.url()}`));
  await page.goto(pathToFileURL(file).href);
  return { page, problems };
}

interface Drawn {
  xMax: number;
  yMax: number;
  series: Array<{ label: string; points: number; max: number; last: number; width: number; coords: number }>;
  thresholds: Array<{ value: number; y: number }>;
}

function drawn(page: Page, chart: string): Promise<Drawn> {
  return page.$eval(`svg[data-chart="${chart}"]`, (svg) => ({
    xMax: Number(svg.getAttribute('data-x-max')),
    yMax: Number(svg.getAttribute('data-y-max')),
    series: [...svg.querySelectorAll('polyline.series')].map((p) => ({
      label: p.getAttribute('data-series')!,
      points: Number(p.getAttribute('data-points')),
      max: Number(p.getAttribute('data-max')),
      last: Number(p.getAttribute('data-last')),
      width: (p as unknown as { getBBox(): { width: number } }).getBBox().width,
      coords: (p.getAttribute('points') ?? '').trim().split(/\s+/).length,
    })),
    thresholds: [...svg.querySelectorAll('line.threshold')].map((l) => ({ value: Number(l.getAttribute('data-value')), y: Number(l.getAttribute('y1')) })),
  }));
}

/** The y of a value on a chart: 260 high, 16 above and 34 below the plot (svg-chart.ts). */
const yOf = (value: number, yMax: number) => 16 + (260 - 16 - 34) * (1 - value / yMax);

function expectChartsMatch(d: { counts: Drawn; states: Drawn; requests: Drawn }, data: ReportData): void {
  // Counts: one step line per host and family, values as computed, thresholds where they belong.
  expect(d.counts.series.map((s) => s.label)).toEqual(data.counts.map((c) => `${c.host} ${c.family}`));
  data.counts.forEach((c, i) => {
    const s = d.counts.series[i]!;
    expect(s).toMatchObject({ points: c.points.length, max: Math.max(...c.points.map((p) => p[1])), last: c.points.at(-1)![1] });
    expect(s.width).toBeGreaterThan(0);
  });
  expect(d.counts.thresholds.map((t) => t.value).sort((a, b) => a - b)).toEqual([...new Set(data.thresholds.map((t) => t.value))].sort((a, b) => a - b));
  for (const t of d.counts.thresholds) expect(t.y).toBeCloseTo(yOf(t.value, d.counts.yMax), 0);
  // States: one line per state with every sample.
  expect(d.states.series.map((s) => s.label)).toEqual([...CLIENT_STATES]);
  for (const s of d.states.series) {
    const values = data.states.series[s.label as (typeof CLIENT_STATES)[number]];
    expect(s).toMatchObject({ points: values.length, last: values.at(-1), max: Math.max(...values) });
  }
  // Requests per hour per host.
  expect(d.requests.series.map((s) => s.label)).toEqual(data.requests.map((r) => r.host));
  data.requests.forEach((r, i) => expect(d.requests.series[i]).toMatchObject({ points: r.perHour.length, max: Math.max(...r.perHour), coords: r.perHour.length }));
  expect(d.counts.xMax).toBe(data.minutes);
}

describe('HTML report in headless Chromium', () => {
  test('reference-walkthrough (lab run --report): renders without errors, charts carry the computed values', { timeout: 120_000 }, async () => {
    const file = join(dir, 'walkthrough.html');
    const r = await runCli(['lab', 'run', 'reference-walkthrough', '--report', file]);
    expect(r.code, r.stderr).toBe(0);
    const data = (await SCENARIOS['reference-walkthrough']!.run()).report; // the same deterministic run, in this process
    const summary = JSON.parse(readFileSync(join(dir, 'walkthrough.json'), 'utf8')) as { passed: boolean; summary: Record<string, unknown> };
    expect(summary).toMatchObject({ passed: true, summary: { contacts: data.summary.contacts, finalCounts: data.summary.finalCounts } });

    const { page, problems } = await open(file);
    expect(await page.locator('svg.chart').count()).toBe(3);
    const d = { counts: await drawn(page, 'counts'), states: await drawn(page, 'states'), requests: await drawn(page, 'requests') };
    expectChartsMatch(d, data);
    // The walkthrough's counts: the host's windows count ends at 25; thresholds 5 and 25.
    expect(d.counts.series[0]).toMatchObject({ last: 25, max: 25 });
    expect(d.counts.thresholds.map((t) => t.value).sort((a, b) => a - b)).toEqual([5, 25]);
    expect(await page.locator('#checks tr.pass').count()).toBe(data.checks.length);
    expect(await page.locator('#checks tr.fail').count()).toBe(0);
    const embedded = JSON.parse((await page.locator('#kmslab-summary').textContent())!) as Record<string, unknown>;
    expect(embedded.finalCounts).toEqual(data.summary.finalCounts);
    expect(problems).toEqual([]);
  });

  test('fleet report: values as computed, outage markers where the outage is, the states summing to the fleet', { timeout: 120_000 }, async () => {
    const result = await fleetScenario({ fleet: { clients: 5_000, days: 120, seed: 5 } });
    const file = join(dir, 'fleet.html');
    const { renderReportHtml } = await import('@kmslab/lab');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, renderReportHtml(result.report));
    const { page, problems } = await open(file);
    const d = { counts: await drawn(page, 'counts'), states: await drawn(page, 'states'), requests: await drawn(page, 'requests') };
    expectChartsMatch(d, result.report);
    const markers = await page.$$eval('svg[data-chart="requests"] line.marker', (ls) => ls.map((l) => Number(l.getAttribute('data-x'))));
    expect(markers).toEqual([60 * 1440, 63 * 1440]);
    const lastStates = d.states.series.reduce((n, s) => n + s.last, 0);
    expect(lastStates).toBe(5_000);
    expect(problems).toEqual([]);
  });
});
