/// <reference lib="dom" />
// (Functions passed to page.evaluate run in the browser.)
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { waitFor } from '@kmslab/core';
import { launchChromium } from './support/chromium.js';
import { requireRedisServer } from './support/redis-server.js';
import { KMSLAB_BIN } from './support/cli.js';

let browser: Browser;
beforeAll(async () => {
  requireRedisServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('kmslab lab run --live --dashboard: a scenario watched on the page, paced by its lab clock (Chromium)', () => {
  test('the walkthrough at 60× shows its host process and lab time; paused, lab time stands; a 1-day jump runs it to the end (checks pass) and the page shows the fleet licensed', async () => {
    const run = spawn(process.execPath, [KMSLAB_BIN, 'lab', 'run', 'reference-walkthrough', '--live', '--dashboard', '127.0.0.1:0', '--speed', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    run.stdout.on('data', (d) => (out += d));
    run.stderr.on('data', (d) => (err += d));
    try {
      const url = await waitFor(() => /dashboard at (http:\S+\/)/.exec(err)?.[1], { timeoutMs: 30_000, everyMs: 50, timedOut: () => new Error(`no dashboard URL:\n${err}`) });
      const page = await browser.newPage();
      await page.goto(url);
      await page.locator('article[data-host="lab-host"]').waitFor({ timeout: 20_000 });
      const labTime = async () => Date.parse((await page.locator('[data-lab-time]').getAttribute('data-lab-time'))!);
      await page.getByRole('button', { name: 'Pause' }).click();
      await expect.poll(() => page.locator('.lab-time').textContent()).toMatch(/paused/);
      const paused = await labTime();
      await new Promise((r) => setTimeout(r, 1500));
      expect(await labTime()).toBe(paused);
      expect(out).not.toContain('All checks passed.');
      await page.getByLabel('Jump').fill('1');
      await page.getByRole('button', { name: 'Jump 1 day' }).click();
      await expect.poll(() => err, { timeout: 30_000 }).toContain('the run is over');
      expect(out).toContain('All checks passed.');
      await expect.poll(async () => Number((await page.locator('.fleet [data-state="licensed"]').textContent())?.split(': ')[1] ?? 0), { timeout: 5000 }).toBeGreaterThan(0);
      expect(await page.locator('table[data-table="attempts"] td[data-col="errorCode"]', { hasText: '0xC004F038' }).count()).toBeGreaterThan(0);
      expect(await labTime()).toBeGreaterThanOrEqual(paused + 86_400_000);
    } finally {
      run.kill('SIGTERM');
      await new Promise((r) => run.once('exit', r));
    }
    expect(run.exitCode).toBe(0);
  }, 90_000);
});
