import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { startCliProcess } from './support/cli.js';
import { dig } from './support/dns-tools.js';

const dir = mkdtempSync(join(tmpdir(), 'kmslab-dashboard-replicas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The zone's SOA serial as a server answers it (dig, over UDP). */
async function soaSerial(port: number): Promise<number> {
  const { answer } = await dig('dig', '127.0.0.1', port, ['lab.test', 'SOA']);
  return Number(answer[0]!.split(/\s+/)[6]);
}

describe("kmslab up --secondaries 2: each server's serial on the dashboard's DNS panel (Chromium)", () => {
  test('with NOTIFY dropped from the start, the secondaries hold the zone as it was before the hosts published: the page shows each serial, behind the primary\'s, as dig reads them', async () => {
    await using up = await startCliProcess([
      'up', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', '127.0.0.1:0', '--secondaries', '2',
      '--data-dir', join(dir, 'up'), '--fault', 'lab.test=notify-drop',
    ]);
    const ready = up.ready as { dnsPort: number; secondaryPorts: number[]; dashboard: string };
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(ready.dashboard);
      const caption = page.locator('table.zone caption');
      // The hosts published after the secondaries' first transfer; its NOTIFY was dropped, so the page shows them behind.
      await expect.poll(() => caption.textContent(), { timeout: 15_000 }).toMatch(/secondaries .*\(behind\).*\(behind\)/);
      const primary = await soaSerial(ready.dnsPort);
      const secondaries = await Promise.all(ready.secondaryPorts.map(soaSerial));
      expect(secondaries.every((s) => s < primary)).toBe(true);
      expect(await caption.textContent()).toBe(`_vlmcs._tcp.lab.test (serial ${primary}; secondaries ${ready.secondaryPorts.map((p, i) => `127.0.0.1:${p} ${secondaries[i]} (behind)`).join(', ')})`);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
