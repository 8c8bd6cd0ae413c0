/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (Functions passed to page.evaluate run in the browser.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { startCliProcess, type CliHost } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kmslab-dashboard-up-'));
let browser: Browser;
let up: CliHost;

beforeAll(async () => {
  [browser, up] = await Promise.all([
    launchChromium(),
    startCliProcess(['up', '--clients', '30', '--time-scale', '720', '--seed', '7', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', '127.0.0.1:0', '--data-dir', join(dir, 'up'),
      // On from the start, so no client finds (and caches) a host before the fault: on a loaded machine lab time
      // ran past first contacts before the test could pause it.
      '--fault', '_vlmcs._tcp.lab.test/SRV=servfail']),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([up?.stop(), browser?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('kmslab up --clients 30 --time-scale 720: the lab on one page (Chromium)', () => {
  test('a SERVFAIL fault the lab started with shows on the page and fails discoveries with 0x8007232A; removed, the count climbs past 25 as /status says and Windows clients turn licensed; the clients table is /clients; jumping 7 days moves every next contact', async () => {
    const base = String(up.ready.dashboard).replace(/\/$/, '');
    const admin = String((up.ready.hosts as Array<{ admin: string }>)[0]!.admin);
    // Paused while the page is read; lab time runs on with Resume.
    expect((await fetch(`${base}/api/lab/clock`, { method: 'POST', body: JSON.stringify({ action: 'pause' }) })).status).toBe(200);
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => !r.url().startsWith(base) && problems.push(`request: ${r.url()}`));
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator('.lab-time').textContent()).toMatch(/paused · 30 simulated clients/);
    await page.locator('tr[data-fault]').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    const codes = () => page.locator('table[data-table="attempts"] td[data-col="errorCode"]').allTextContents();
    await expect.poll(codes, { timeout: 20_000 }).toContain('0x8007232A');

    await page.getByRole('button', { name: 'Remove fault _vlmcs._tcp.lab.test/SRV=servfail' }).click();
    await page.locator('tr[data-fault]').waitFor({ state: 'detached' });
    // A day later every client has retried (every 2 hours) and found the host.
    await page.getByLabel('Jump').fill('1');
    await page.getByRole('button', { name: 'Jump 1 day' }).click();
    const shown = () => page.locator('article[data-host="kms1"] [data-count="windows"]').textContent();
    const status = async () => ((await (await fetch(`${admin}/status`)).json()) as { families: { windows: { currentCount: number } } }).families.windows.currentCount;
    await expect.poll(async () => Number(await shown()), { timeout: 20_000 }).toBeGreaterThanOrEqual(25);
    await expect.poll(async () => (await shown()) === String(await status()), { timeout: 5000 }).toBe(true);
    // Windows clients (25 to activate) retry once the count is there: another day and all 30 are licensed.
    await page.getByRole('button', { name: 'Jump 1 day' }).click();
    await expect.poll(() => page.locator('.fleet [data-state="licensed"]').textContent(), { timeout: 20_000 }).toBe('licensed: 30');
    const licensedWindows = (await page.locator('table[data-table="attempts"] tr').allTextContents()).filter((r) => /windows-10/.test(r) && !/0x/.test(r));
    expect(licensedWindows.length).toBeGreaterThan(0);

    const held = async () => ((await (await fetch(`${admin}/clients`)).json()) as { families: { windows: Array<{ cmid: string; nextContact: string }> } }).families.windows;
    const before = await held();
    expect(before).toHaveLength(30);
    await expect.poll(async () => (await page.locator('table[data-table="clients"] td[data-col="cmid"]').allTextContents()).sort()).toEqual(before.map((c) => c.cmid).sort());
    await page.screenshot({ path: join(import.meta.dirname, '..', 'docs', 'images', 'dashboard-lab.png'), fullPage: true });

    await page.getByLabel('Jump').fill('7');
    await page.getByRole('button', { name: 'Jump 7 days' }).click();
    const next = new Map(before.map((c) => [c.cmid, Date.parse(c.nextContact)]));
    await expect.poll(async () => (await held()).filter((c) => Date.parse(c.nextContact) > next.get(c.cmid)!).length, { timeout: 20_000 }).toBe(30);
    expect(problems).toEqual([]);
  }, 120_000);

  test('the lab clock refuses what it cannot do with a 400 and one line, and a change from another site with a 403', async () => {
    const base = String(up.ready.dashboard).replace(/\/$/, '');
    const post = (body: unknown, headers: Record<string, string> = {}) => fetch(`${base}/api/lab/clock`, { method: 'POST', headers, body: JSON.stringify(body) });
    for (const body of [{ action: 'jump', days: -1 }, { action: 'jump' }, { action: 'speed', speed: 0 }, { action: 'speed', speed: '720' }, { action: 'rewind' }, 'pause']) {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect((await r.text()).trim().split('\n')).toHaveLength(1);
    }
    const before = ((await (await fetch(`${base}/api/lab/clock`)).json()) as { paused: boolean }).paused;
    expect((await post({ action: before ? 'resume' : 'pause' }, { origin: 'http://evil.test' })).status).toBe(403);
    expect(((await (await fetch(`${base}/api/lab/clock`)).json()) as { paused: boolean }).paused).toBe(before);
  });
});
