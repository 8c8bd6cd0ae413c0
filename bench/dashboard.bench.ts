/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="dom.asynciterable" />
// (Functions passed to page.evaluate run in the browser.)
/**
 * pnpm bench:dashboard — the dashboard's first load in Debian's Chromium on
 * loopback (a fresh browser context each time, so nothing is cached): bytes
 * transferred and the time from navigation to the first host card drawn,
 * beside an anchor loaded the same way in the same run (a bare Node server
 * sending a one-line HTML page, timed to its first element). Issue "Lab
 * dashboard": ≤ 150 KB gzipped, first render ≤ 500 ms. Then the page of a
 * `kmslab up --clients 100000 --time-scale 720` lab: its first render and the
 * longest task on the page's main thread over 10 s of pushed readings (the
 * page stays responsive: aggregated charts, paged tables).
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/support/chromium.js';
import { startCliHost, startCliProcess } from '../test/support/cli.js';
import { median, printTable, stamp, writeResults, type Row } from './report.js';

const RUNS = 15;
const dir = mkdtempSync(join(tmpdir(), 'kmslab-bench-dashboard-'));

/** Milliseconds from navigation start to the page's `kmslab:first-render` mark (made once `selector` is drawn), and bytes transferred. */
async function firstLoad(browser: Browser, url: string, selector: string): Promise<{ ms: number; bytes: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.locator(selector).first().waitFor({ timeout: 10_000 });
  const result = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    return { ms: performance.getEntriesByName('kmslab:first-render')[0]!.startTime - nav.startTime, bytes: nav.transferSize + resources.filter((r) => !r.name.includes('/api/')).reduce((a, r) => a + r.transferSize, 0) };
  });
  await context.close();
  return result;
}

/** The page of a 100,000-client lab: first render, then the longest task (PerformanceObserver longtask) while readings arrive. */
async function bigLab(browser: Browser): Promise<{ firstMs: number; longestMs: number; tasks: number }> {
  await using up = await startCliProcess(['up', '--clients', '100000', '--time-scale', '720', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', '127.0.0.1:0', '--data-dir', join(dir, 'up')]);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as { __tasks: number[] };
    w.__tasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) w.__tasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(String(up.ready.dashboard), { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.lab-time').waitFor({ timeout: 60_000 });
  const firstMs = await page.evaluate(() => performance.getEntriesByName('kmslab:first-render')[0]!.startTime);
  await page.evaluate(() => { (window as unknown as { __tasks: number[] }).__tasks.length = 0; });
  await page.waitForTimeout(10_000);
  const tasks = await page.evaluate(() => (window as unknown as { __tasks: number[] }).__tasks);
  await context.close();
  return { firstMs, longestMs: Math.max(0, ...tasks), tasks: tasks.length };
}

const anchor = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>anchor</title><p id="drawn">hello</p><script>performance.mark("kmslab:first-render")</script>'));
await new Promise<void>((r) => anchor.listen(0, '127.0.0.1', r));
const anchorUrl = `http://127.0.0.1:${(anchor.address() as { port: number }).port}/`;

const browser = await launchChromium();
try {
  await using dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', join(dir, 'dns'), '--admin', '127.0.0.1:0']);
  await using host = await startCliHost(['--data-dir', join(dir, 'host')]);
  await using dashboard = await startCliProcess(['dashboard', '--admin', host.adminUrl, '--dns-admin', dns.adminUrl, '--listen', '127.0.0.1:0']);
  const url = `${String(dashboard.ready.url)}/`;
  console.error(`bench:dashboard — ${RUNS} first loads each, Chromium ${browser.version()}, Node ${process.version}`);
  await firstLoad(browser, url, 'article[data-host]');
  const page: Array<{ ms: number; bytes: number }> = [];
  const bare: Array<{ ms: number; bytes: number }> = [];
  // Interleaved, so a noisy moment falls on both.
  for (let i = 0; i < RUNS; i++) {
    page.push(await firstLoad(browser, url, 'article[data-host]'));
    bare.push(await firstLoad(browser, anchorUrl, '#drawn'));
  }
  const pageMs = median(page.map((r) => r.ms));
  const bareMs = median(bare.map((r) => r.ms));
  const kb = median(page.map((r) => r.bytes)) / 1024;
  const rows: Row[] = [
    { measure: 'dashboard: first render ms (first host card)', kmslab: pageMs, anchor: bareMs, anchorName: 'one-line page, bare Node', ratio: pageMs / bareMs, target: '≤ 500 ms' },
    { measure: 'dashboard: first load KB transferred (gzip)', kmslab: kb, anchor: 150, anchorName: 'goal', ratio: kb / 150, target: '≤ 1.0' },
  ];
  const fleet = await bigLab(browser);
  rows.push(
    { measure: 'dashboard: first render ms, up --clients 100000', kmslab: fleet.firstMs, anchor: bareMs, anchorName: 'one-line page, bare Node', ratio: fleet.firstMs / bareMs, target: '(context)' },
    { measure: 'dashboard: longest main-thread task ms over 10 s, 100,000 clients', kmslab: fleet.longestMs, anchor: 50, anchorName: 'a long task', ratio: fleet.longestMs / 50, target: '≤ 1 (responsive)' },
  );
  printTable(rows);
  writeResults(`dashboard-${stamp()}`, { node: process.version, chromium: browser.version(), runs: RUNS, page, bare, fleet, rows });
} finally {
  await browser.close();
  anchor.close();
  rmSync(dir, { recursive: true, force: true });
}
