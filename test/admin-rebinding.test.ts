/// <reference lib="dom" />
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { startCliHost, startCliProcess } from './support/cli.js';
import { tempDir } from './support/kms-host.js';

/** One request with exactly these headers (fetch() will not send a Host of the test's choosing). */
function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, setHost: o.headers?.host === undefined }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** What a page at http://a.example:PORT sends once a.example resolves to 127.0.0.1 (DNS rebinding): its own name in Host and Origin. */
const rebound = (url: string) => {
  const port = new URL(url).port;
  return { host: `a.example:${port}`, origin: `http://a.example:${port}` };
};

describe('no page on the web drives a loopback listener (DNS rebinding; docs/admin-api.md "Who may ask")', () => {
  test('every admin listener — dns start, host start, kmslab up, kmslab dashboard — answers a request addressed to another name with 421 and changes nothing', async () => {
    await using dir = tempDir();
    await using dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', join(dir.path, 'dns'), '--admin', '127.0.0.1:0', '--admin-allowed-host', 'lab-admin.example']);
    await using host = await startCliHost(['--data-dir', join(dir.path, 'host')]);
    await using up = await startCliProcess(['up', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', '127.0.0.1:0', '--data-dir', join(dir.path, 'up')]);
    await using dashboard = await startCliProcess(['dashboard', '--dns-admin', dns.adminUrl, '--listen', '127.0.0.1:0']);
    const upAdmin = (up.ready.hosts as Array<{ admin: string }>)[0]!.admin;
    const upDnsAdmin = up.ready.dnsAdmin as string;
    const dashboardUrl = dashboard.ready.url as string;
    const rule = JSON.stringify({ rule: '*.lab.test=drop' });

    const attempts: Array<[string, string, string?]> = [
      [`${dns.adminUrl}/faults`, 'POST', rule],
      [`${dns.adminUrl}/queries`, 'GET'],
      [`${host.adminUrl}/status`, 'GET'],
      [`${host.adminUrl}/clients`, 'GET'],
      [`${host.adminUrl}/api/state`, 'GET'],
      [`${upAdmin}/api/lab/clock`, 'POST', JSON.stringify({ action: 'jump', days: 3650 })],
      [`${upAdmin}/api/dns/faults`, 'POST', rule],
      [`${upDnsAdmin}/faults`, 'POST', rule],
      [`${dashboardUrl}/api/dns/faults`, 'POST', rule],
      [`${dashboardUrl}/api/state`, 'GET'],
    ];
    for (const [url, method, body] of attempts) {
      const r = await request(url, { method, headers: rebound(url), body });
      expect([r.status, r.body.split('\n').length], `${method} ${url}`).toEqual([421, 2]);
    }
    // Nothing changed: no fault on either DNS server, the lab clock where it was (within the minute the test took).
    expect(await (await fetch(`${dns.adminUrl}/faults`)).json()).toEqual([]);
    expect(await (await fetch(`${upDnsAdmin}/faults`)).json()).toEqual([]);
    const lab = (await (await fetch(`${upAdmin}/api/lab/clock`)).json()) as { time: string };
    expect(Math.abs(Date.parse(lab.time) - Date.now())).toBeLessThan(60_000);

    // The same change from the listener's own page (its address, or a name it was given) goes through.
    const own = await request(`${dns.adminUrl}/faults`, { method: 'POST', headers: { host: new URL(dns.adminUrl).host, origin: new URL(dns.adminUrl).origin }, body: rule });
    expect(own.status).toBe(201);
    const named = `lab-admin.example:${new URL(dns.adminUrl).port}`;
    expect((await request(`${dns.adminUrl}/faults`, { headers: { host: named } })).status).toBe(200);
    // A page elsewhere posting to the right address: its Origin is not the listener's (403, as before).
    const crossSite = await request(`${dns.adminUrl}/faults`, { method: 'POST', headers: { origin: 'http://a.example' }, body: rule });
    expect(crossSite.status).toBe(403);
    expect(await (await fetch(`${dns.adminUrl}/faults`)).json()).toHaveLength(1);
  });

  test('in Chromium: the session cookie reaches another local server (browsers share cookies across ports) but holds no token; a rebound name gets 421', async () => {
    await using dir = tempDir();
    const token = 'the-admin-token-0123456789';
    process.env.KMSLAB_ADMIN_TOKEN = token;
    let host;
    try {
      host = await startCliHost(['--data-dir', join(dir.path, 'host')]);
    } finally {
      delete process.env.KMSLAB_ADMIN_TOKEN;
    }
    await using _host = host;
    // An unrelated server on another loopback port, recording the cookies it is sent.
    const seen: string[] = [];
    const other = createServer((req, res) => {
      seen.push(req.headers.cookie ?? '');
      res.end('other service');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherPort = (other.address() as AddressInfo).port;
    const adminPort = new URL(host.adminUrl).port;
    const browser = await launchChromium([`--host-resolver-rules=MAP a.example 127.0.0.1`]);
    try {
      const page = await browser.newPage();
      const opened = await page.goto(`${host.adminUrl}/status?token=${token}`);
      expect(opened?.status()).toBe(200);
      expect(page.url()).toBe(`${host.adminUrl}/status`);
      await page.goto(`http://127.0.0.1:${otherPort}/`);
      expect(seen.at(-1)).toMatch(new RegExp(`kmslab_admin_${adminPort}=[A-Za-z0-9_-]{43}`));
      expect(seen.join('\n')).not.toContain(token);
      // The page at a name that resolves to 127.0.0.1 reaches the listener, which does not answer it.
      const rebound = await page.goto(`http://a.example:${adminPort}/status`);
      expect(rebound?.status()).toBe(421);
    } finally {
      await browser.close();
      await new Promise((r) => other.close(r));
    }
  });
});
