/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="dom.asynciterable" />
// (Functions passed to page.evaluate run in the browser.)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { dig } from './support/dns-tools.js';
import { runCli, startCliHost, startCliProcess, type CliHost } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kmslab-dashboard-'));
let n = 0;
const tmp = () => {
  const d = join(dir, String(n++));
  mkdirSync(d);
  return d;
};
const SECRET = Buffer.from('dashboard-test-secret-32-bytes!!').toString('base64');
const SCREENSHOTS = join(import.meta.dirname, '..', 'docs', 'images');

let browser: Browser;
let dns: CliHost;
let kms1: CliHost;
let kms2: CliHost;
let dashboard: CliHost;
let dnsAdmin: string;

const status = async (host: CliHost) => (await (await fetch(`${host.adminUrl}/status`)).json()) as { families: { windows: { currentCount: number } } };
const faults = async () => (await (await fetch(`${dnsAdmin}/faults`)).json()) as Array<{ id: string; rule: string }>;
const activate = async (product = 'windows-server-2016-standard') =>
  JSON.parse((await runCli(['client', 'activate', '--product', product, '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--state-dir', tmp(), '--json'])).stdout) as { licensed: boolean; errorCode: string | null; count: number | null };

beforeAll(async () => {
  [browser, dns] = await Promise.all([launchChromium(), startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', tmp(), '--admin', '127.0.0.1:0', '--tsig-key', `kms:hmac-sha256:${SECRET}`])]);
  dnsAdmin = dns.adminUrl;
  const publish = (name: string, priority: number) => ['--host-id', name, '--data-dir', tmp(), '--publish', '--dns', `127.0.0.1:${dns.port}`, '--tsig-key', `kms:hmac-sha256:${SECRET}`, '--fqdn', `${name}.lab.test`, '--advertise-address', '127.0.0.1', '--publish-domain', `lab.test,${priority},0`];
  [kms1, kms2] = await Promise.all([startCliHost(publish('kms1', 0)), startCliHost(publish('kms2', 10))]);
  dashboard = await startCliProcess(['dashboard', '--admin', kms1.adminUrl, '--admin', kms2.adminUrl, '--dns-admin', dnsAdmin, '--listen', '127.0.0.1:0']);
}, 60_000);

afterAll(async () => {
  await Promise.all([dashboard?.stop(), kms1?.stop(), kms2?.stop()]);
  await Promise.all([dns?.stop(), browser?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the page; a page error, a console error or a request to anything but the dashboard fails the test. */
async function open(url: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport, bypassCSP: false });
  const page = await context.newPage();
  const problems: string[] = [];
  const origin = new URL(url).origin;
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('request', (r) => !r.url().startsWith(origin) && !r.url().startsWith('data:') && problems.push(`request: ${r.url()}`));
  await page.goto(url);
  return { page, problems };
}

const url = () => String(dashboard.ready.url);

describe('kmslab dashboard: one live page for hosts and DNS in other processes (Chromium)', () => {
  test('each host is shown with what it activates and where it publishes; the count shown is /status, and it climbs to the threshold as clients activate', async () => {
    const { page, problems } = await open(`${url()}/`);
    await page.locator('article[data-host="kms1"]').waitFor();
    await expect.poll(() => page.locator('article[data-host]').count()).toBe(2);
    const card = page.locator('article[data-host="kms1"]');
    expect(await card.textContent()).toMatch(/Windows Server 2025/);
    expect(await card.textContent()).toMatch(/kms1\.lab\.test in lab\.test \(priority 0, weight 0\)/);
    expect(await card.locator('[data-count="windows"]').textContent()).toBe(String((await status(kms1)).families.windows.currentCount));
    // The SRV records the hosts published, from the DNS admin API.
    const srv = () => page.locator('table.zone tbody tr').evaluateAll((rows) => rows.map((r) => [...(r as HTMLTableRowElement).cells].map((c) => c.textContent)));
    // Each published record's age since its last refresh (aging); no owner: lab.test is not a secure zone.
    await expect.poll(srv).toEqual([['0', '0', String(kms1.port), 'kms1.lab.test', '3600', '0 min', '-'], ['10', '0', String(kms2.port), 'kms2.lab.test', '3600', '0 min', '-']]);
    for (let i = 0; i < 5; i++) expect(await activate()).toMatchObject({ licensed: i === 4 });
    // Pushed within a reading (1 s); the figure is the host's own.
    await expect.poll(() => card.locator('[data-count="windows"]').textContent(), { timeout: 5000 }).toBe('5');
    expect((await status(kms1)).families.windows.currentCount).toBe(5);
    expect(await card.locator('.pill.on').allTextContents()).toEqual(['≥ 5: reached']);
    expect(await card.locator('.pill:not(.on)').allTextContents()).toEqual(['≥ 25: 20 to go']);
    // The clients the host holds (GET /clients) are the page's table; the requests ring has every answer, newest first.
    const held = (await (await fetch(`${kms1.adminUrl}/clients`)).json()) as { perFamily: number; families: { windows: Array<{ cmid: string; contacts: number; answer: string; nextContact: string; lastContact: string }> } };
    expect(held.perFamily).toBe(50);
    expect(held.families.windows).toHaveLength(5);
    expect(held.families.windows[0]).toMatchObject({ contacts: 1, answer: 'licensed' });
    expect(Date.parse(held.families.windows[0]!.nextContact) - Date.parse(held.families.windows[0]!.lastContact)).toBe(7 * 24 * 3_600_000);
    expect(Date.parse(held.families.windows[4]!.nextContact) - Date.parse(held.families.windows[4]!.lastContact)).toBe(2 * 3_600_000);
    const recent = (await (await fetch(`${kms1.adminUrl}/requests`)).json()) as { capacity: number; requests: Array<{ answer: string; count: number }> };
    expect(recent.requests.map((r) => [r.answer, r.count])).toEqual([['licensed', 5], ['0xC004F038', 4], ['0xC004F038', 3], ['0xC004F038', 2], ['0xC004F038', 1]]);
    const column = (table: string, col: string) => page.locator(`table[data-table="${table}"] td[data-col="${col}"]`).allTextContents();
    await expect.poll(() => column('clients', 'cmid')).toHaveLength(5);
    expect((await column('clients', 'cmid')).sort()).toEqual(held.families.windows.map((c) => c.cmid).sort());
    expect(await column('requests', 'answer')).toEqual(recent.requests.map((r) => r.answer));
    // Searching narrows the table to one client; sorting by count puts the licensed request first or last.
    await page.locator('input[data-search="clients"]').fill(held.families.windows[2]!.cmid.slice(0, 13));
    expect(await column('clients', 'cmid')).toEqual([held.families.windows[2]!.cmid]);
    await page.locator('table[data-table="requests"] th button', { hasText: 'Count' }).click();
    expect(await column('requests', 'count')).toEqual(['5', '4', '3', '2', '1']);
    await page.locator('table[data-table="requests"] th button', { hasText: 'Count' }).click();
    expect(await column('requests', 'count')).toEqual(['1', '2', '3', '4', '5']);
    // The host's events (GET /events): published in lab.test (12294), then 12290 per request with its HRESULT.
    await expect.poll(async () => (await column('events', 'id')).filter((id) => id === '12290').length, { timeout: 5000 }).toBe(5);
    expect(await column('events', 'id')).toContain('12294');
    expect((await column('events', 'hresult')).sort()).toEqual(expect.arrayContaining(['0x0', '0xC004F038', '0xC004F038', '0xC004F038', '0xC004F038']));
    expect((await column('events', 'details')).find((d) => d.startsWith('published in DNS'))).toMatch(/domain lab\.test, fqdn kms1\.lab\.test/);
    // The chart has one series per host and family, with points.
    expect(await page.locator('.chart .u-legend .u-series').count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  test('a SERVFAIL fault added from the page makes the next discovery fail with 0x8007232A, the query log shows it, and removing it lets activation succeed', async () => {
    const { page, problems } = await open(`${url()}/`);
    await page.getByLabel('Add a fault rule').fill('_vlmcs._tcp.lab.test/SRV=servfail');
    await page.getByRole('button', { name: 'Add' }).click();
    await expect.poll(async () => (await faults()).map((f) => f.rule)).toEqual(['_vlmcs._tcp.lab.test/SRV=servfail']);
    await page.locator('tr[data-fault]').waitFor();
    expect(await activate()).toMatchObject({ licensed: false, errorCode: '0x8007232A' });
    await expect.poll(() => page.locator('table.queries tbody tr').allTextContents(), { timeout: 5000 }).toContainEqual(expect.stringMatching(/_VLMCS\._TCP\.lab\.testSRVSERVFAIL \(0\)servfail/));
    await page.getByRole('button', { name: 'Remove fault _vlmcs._tcp.lab.test/SRV=servfail' }).click();
    await expect.poll(() => faults()).toEqual([]);
    // Discovery works again: the host answers (licensed or not depends on its count, the test before this one's).
    expect(await activate()).toMatchObject({ count: expect.any(Number), errorCode: expect.not.stringMatching(/^0x8007/) });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-dns.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  test('a page that opens shows the latest queries the DNS server already holds, at once — not only those made after it', async () => {
    await dig('dig', '127.0.0.1', dns.port, ['before-the-page.lab.test', 'A']);
    await using fresh = await startCliProcess(['dashboard', '--dns-admin', dnsAdmin, '--listen', '127.0.0.1:0']);
    const abort = new AbortController();
    const res = await fetch(`${fresh.ready.url as string}/api/events`, { signal: abort.signal });
    let text = '';
    try {
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        if (/event: queries\ndata: .*before-the-page\.lab\.test/.test(text)) break;
      }
    } finally {
      abort.abort();
    }
    expect(text).toMatch(/event: queries\ndata: .*"qname":"before-the-page\.lab\.test"/);
  });

  test('narrow and wide windows need no sideways scrolling; the keyboard reaches the fault form; axe finds no serious or critical violation', async () => {
    for (const width of [375, 1600]) {
      const { page } = await open(`${url()}/`, { width, height: 800 });
      await page.locator('article[data-host="kms2"]').waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `width ${width}`).toBe(true);
      if (width === 375) {
        for (let i = 0; i < 100 && (await page.evaluate(() => document.activeElement?.id)) !== 'fault-rule'; i++) await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('fault-rule');
      }
      const axe = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
      // Injected as a file the page fetches from nowhere: the page's own policy stays on.
      await page.context().route('**/__axe.js', (route) => route.fulfill({ path: axe, contentType: 'text/javascript' }));
      await page.evaluate(() => new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = '/__axe.js';
        s.onload = resolve;
        s.onerror = reject;
        document.head.append(s);
      }));
      const violations = await page.evaluate(async () => {
        const result = await (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe.run();
        return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`);
      });
      expect(violations, `width ${width}`).toEqual([]);
    }
  });
});

describe('the dashboard behind a token, and read-only', () => {
  const TOKEN = 'dashboard-token-0123456789';

  test('no token: 401 and nothing changed; ?token= once gives an HttpOnly SameSite=Strict cookie and the page; a cross-origin POST is refused; the token is in no log and not in the page', async () => {
    await using guarded = await startCliProcess(['dashboard', '--admin', kms1.adminUrl, '--dns-admin', dnsAdmin, '--listen', '127.0.0.1:0', '--admin-token', TOKEN]);
    const base = String(guarded.ready.url);
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/api/state`)).status).toBe(401);
    const refused = await fetch(`${base}/api/dns/faults`, { method: 'POST', body: JSON.stringify({ rule: 'x.lab.test=servfail' }) });
    expect(refused.status).toBe(401);
    expect(await faults()).toEqual([]);
    const swap = await fetch(`${base}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(swap.status).toBe(303);
    expect(swap.headers.get('location')).toBe('/');
    expect(swap.headers.get('set-cookie')).toMatch(new RegExp(`^kmslab_admin_${new URL(base).port}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200$`));
    const cookie = swap.headers.get('set-cookie')!.split(';')[0]!;
    const crossSite = await fetch(`${base}/api/dns/faults`, { method: 'POST', headers: { cookie, origin: 'http://evil.test', 'content-type': 'application/json' }, body: JSON.stringify({ rule: 'x.lab.test=servfail' }) });
    expect(crossSite.status).toBe(403);
    expect(await faults()).toEqual([]);
    const { page, problems } = await open(`${base}/?token=${TOKEN}`);
    await page.locator('article[data-host="kms1"]').waitFor();
    expect(page.url()).toBe(`${base}/`);
    expect(await page.content()).not.toContain(TOKEN);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    // From the page itself (same origin, the cookie), a change goes through.
    await page.getByLabel('Add a fault rule').fill('x.lab.test=servfail');
    await page.getByRole('button', { name: 'Add' }).click();
    await expect.poll(async () => (await faults()).map((f) => f.rule)).toEqual(['x.lab.test=servfail']);
    await fetch(`${dnsAdmin}/faults`, { method: 'DELETE' });
    expect(problems).toEqual([]);
    await guarded.stop();
    expect(guarded.logs()).not.toContain(TOKEN);
  });

  test('--admin-read-only: the page has no controls and every change is refused', async () => {
    await using readOnly = await startCliProcess(['dashboard', '--dns-admin', dnsAdmin, '--listen', '127.0.0.1:0', '--admin-read-only']);
    const base = String(readOnly.ready.url);
    const res = await fetch(`${base}/api/dns/faults`, { method: 'POST', body: JSON.stringify({ rule: 'x.lab.test=servfail' }) });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/read-only/);
    expect(await faults()).toEqual([]);
    const { page } = await open(`${base}/`);
    await page.locator('#dns-h').waitFor();
    expect(await page.locator('form.add-fault').count()).toBe(0);
    // Paths that are not the page's files are a 404, however they are spelled.
    for (const path of ['/assets/nothing.js', '/assets/%2e%2e/%2e%2e/package.json', '/assets/../../../etc/passwd', '/index.html%00.js']) expect((await fetch(`${base}${path}`)).status, path).toBe(404);
  });

  test('a dashboard reachable beyond loopback makes up a token and prints the URL that carries it, once, on stderr and not in the log', async () => {
    await using open0 = await startCliProcess(['dashboard', '--dns-admin', dnsAdmin, '--listen', '0.0.0.0:0']);
    const printed = /open the dashboard at (http:\/\/\S+)\/\?token=(\S+)/.exec(open0.logs());
    expect(printed).not.toBeNull();
    const port = new URL(printed![1]!).port;
    expect((await fetch(`http://127.0.0.1:${port}/api/state`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/api/state`, { headers: { authorization: `Bearer ${decodeURIComponent(printed![2]!)}` } })).status).toBe(200);
    expect(open0.logs().split('\n').filter((l) => l.includes(printed![2]!))).toHaveLength(1);
  });
});

describe('the page on a host\'s own admin listener, and the same rules on every admin listener', () => {
  test('kmslab host start serves the page at /: its card with the count /status gives', async () => {
    const { page, problems } = await open(`${kms1.adminUrl}/`);
    await page.locator('article[data-host="kms1"]').waitFor();
    expect(await page.locator('article[data-host]').count()).toBe(1);
    expect(await page.locator('article[data-host="kms1"] [data-count="windows"]').textContent()).toBe(String((await status(kms1)).families.windows.currentCount));
    expect(await page.locator('#dns-h').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  test('a host with a token: the page by ?token= once; PUT /lab/clock from another site, or with --admin-read-only, is 403 and the clock stays', async () => {
    const token = 'host-admin-token-0123456789';
    await using host = await startCliHost(['--data-dir', tmp(), '--admin-token', token, '--lab-clock', '2026-01-01T00:00:00Z']);
    expect((await fetch(`${host.adminUrl}/`)).status).toBe(401);
    const { page } = await open(`${host.adminUrl}/?token=${token}`);
    await page.locator('article[data-host]').waitFor();
    expect(await page.content()).not.toContain(token);
    const auth = { authorization: `Bearer ${token}` };
    const clock = async () => ((await (await fetch(`${host.adminUrl}/lab/clock`, { headers: auth })).json()) as { now: number }).now;
    const before = await clock();
    const put = (headers: Record<string, string>) => fetch(`${host.adminUrl}/lab/clock`, { method: 'PUT', headers: { ...auth, ...headers }, body: JSON.stringify({ now: before + 86_400_000 }) });
    expect((await put({ origin: 'http://evil.test' })).status).toBe(403);
    expect((await put({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(await clock()).toBe(before);
    expect((await put({})).status).toBe(200);
    expect(await clock()).toBe(before + 86_400_000);
    await using readOnly = await startCliHost(['--data-dir', tmp(), '--lab-clock', '2026-01-01T00:00:00Z', '--admin-read-only']);
    const refused = await fetch(`${readOnly.adminUrl}/lab/clock`, { method: 'PUT', body: JSON.stringify({ now: before }) });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/read-only/);
  });

  test('the DNS admin listener: a fault POSTed from another site or to a --admin-read-only server is 403 and nothing is added', async () => {
    const post = (base: string, headers: Record<string, string> = {}) => fetch(`${base}/faults`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ rule: 'y.lab.test=servfail' }) });
    expect((await post(dnsAdmin, { origin: 'http://evil.test' })).status).toBe(403);
    expect(await faults()).toEqual([]);
    await using readOnly = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', tmp(), '--admin', '127.0.0.1:0', '--admin-read-only']);
    expect((await post(readOnly.adminUrl)).status).toBe(403);
    expect(await (await fetch(`${readOnly.adminUrl}/faults`)).json()).toEqual([]);
  });
});
