import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KMSLAB_IMAGE, REDIS_IMAGE } from '@kmslab/testcontainers';
import type { Browser, Page } from 'playwright-core';
import { waitFor } from '@kmslab/core';
import { launchChromium } from './support/chromium.js';
import { dig } from './support/dns-tools.js';
import { requireDockerAndImage, sh } from './support/docker.js';

const project = `kmslabtest${process.pid}`;
const env = {
  ...process.env,
  KMSLAB_IMAGE,
  REDIS_IMAGE,
  LAB_NET: `172.29.${(process.pid % 250) + 1}`,
  LAB_BRIDGE: `kmslab-t${process.pid % 100_000}`,
  KMSLAB_ADMIN_TOKEN: `compose-test-token-${process.pid}`,
};
const compose = (...args: string[]) => sh('docker-compose', ['-p', project, '-f', 'infra/compose/docker-compose.yml', ...args], { env, exitCodes: [0, 2] }); // 2: kmslab client activate, not licensed

interface AgentLine {
  host: string | null;
  discoveredBy: string | null;
  count: number | null;
}

function agentLines(service: string): AgentLine[] {
  return compose('logs', '--no-color', service)
    .split('\n')
    .map((l) => l.slice(l.indexOf('|') + 1).trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AgentLine);
}

/** infra/compose: the training lab as Docker Compose (Debian's docker-compose 1.29), discovery through real container DNS. */
describe('compose training lab', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    requireDockerAndImage();
    if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0) throw new Error('docker-compose not found: apt-get install docker-compose (Debian, 1.29), or any Compose that answers to docker-compose');
    // The hosts first, until both SRV records are in the lab DNS (dig from here, over the lab's bridge): a client
    // started before kms1 published would find kms2 alone and keep it (host caching), and the test asserts kms1.
    compose('up', '-d', '--no-build', 'dns', 'redis', 'kms1', 'kms2');
    await waitFor(
      async () => (await dig('dig', `${env.LAB_NET}.53`, 53, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.length === 2,
      { timeoutMs: 60_000, everyMs: 250, timedOut: () => new Error(`kms1 and kms2 did not both publish in the lab DNS within 60 s:\n${compose('logs', '--no-color', '--tail', '20', 'kms1', 'kms2')}`) },
    );
    compose('up', '-d', '--no-build');
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    compose('down', '-v', '--timeout', '5');
  }, 120_000);

  test('every client machine finds kms1 (priority 0) through the lab DNS by SRV, and kms1 counts all three', { timeout: 120_000 }, async () => {
    const lines = await waitFor(
      () => {
        const all = ['client1', 'client2', 'client3'].map(agentLines);
        return all.every((l) => l.length > 0) ? all : undefined;
      },
      { timeoutMs: 60_000, everyMs: 500, timedOut: () => new Error('not every client machine logged an activation within 60 s') },
    );
    for (const l of lines) expect(l[0]).toMatchObject({ discoveredBy: 'dns', host: 'kms1.lab.test:1688' });
    // client3 asked the secondary, dns2: it followed the lab DNS (NOTIFY, then a transfer) before client3 found the host.
    expect(compose('logs', '--no-color', 'dns2')).toMatch(/"event":"secondary-transferred"/);
    const admin = compose('port', 'kms1', '9688').trim();
    const status = (await (await fetch(`http://${admin}/status`, { headers: { authorization: `Bearer ${env.KMSLAB_ADMIN_TOKEN}` } })).json()) as { families: { windows: { currentCount: number } }; store: { kind: string } };
    expect(status.store.kind).toBe('redis');
    expect(status.families.windows.currentCount).toBe(3);
    // The dashboard service: both hosts on one page, through the URL with the token once.
    page = await browser.newPage();
    await page.goto(`http://${compose('port', 'dashboard', '9690').trim()}/?token=${env.KMSLAB_ADMIN_TOKEN}`);
    await page.locator('article[data-host="kms2"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('article[data-host="kms1"] [data-count="windows"]').textContent()).toBe('3');
    expect(await page.locator('table.zone tbody tr').count()).toBe(2);
  });

  test('with the kms1 container stopped, a client fails over to kms2 (priority 10), and the dashboard shows it', { timeout: 120_000 }, async () => {
    compose('stop', '--timeout', '5', 'kms1');
    const out = compose('exec', '-T', 'client2', 'kmslab', 'client', 'activate', '--product', 'windows-10-enterprise', '--state-dir', '/tmp/probe', '--json');
    expect(JSON.parse(out)).toMatchObject({ discoveredBy: 'dns', host: 'kms2.lab.test:1688', count: 1 });
    // The dashboard shows kms1 gone and kms2's count rising.
    await expect.poll(() => page.locator('article.card.down').textContent(), { timeout: 20_000 }).toMatch(/http:\/\/kms1:9688.*Unreachable/);
    await expect.poll(async () => Number(await page.locator('article[data-host="kms2"] [data-count="windows"]').textContent()), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
  });
});
