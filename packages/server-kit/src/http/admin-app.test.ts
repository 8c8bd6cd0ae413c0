import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { KmsLabError, type ErrorCode } from '@kmslab/core';
import { createAdminApp, listenAdmin, methodNotAllowed, openEventStream, sendJson, type AdminApp } from './admin-app.js';

/** One request with exactly these headers: fetch() will not send a Host of the test's choosing. */
function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, setHost: o.headers?.host === undefined }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const TOKEN = 'a-token-of-the-listener-0123';
let app: AdminApp | null = null;
let changes = 0;
let now = Date.parse('2026-12-05T12:00:00Z');

async function start(o: { token?: string; allowedHosts?: string[]; requestTimeoutMs?: number } = {}): Promise<{ url: string; port: number }> {
  app = createAdminApp({ ...o, notFound: 'Try /thing', now: () => now });
  app.get('/thing', async (_req, reply) => sendJson(reply, 200, { changes }));
  app.post('/thing', async (_req, reply) => sendJson(reply, 201, { changes: ++changes }));
  app.route({ method: ['PUT', 'DELETE'], url: '/thing', handler: methodNotAllowed(['GET', 'HEAD', 'POST'], 'GET or POST /thing') });
  app.get('/fails/:code', async (req) => {
    throw new KmsLabError((req.params as { code: ErrorCode }).code);
  });
  app.get('/stream', async (_req, reply) => {
    const res = openEventStream(reply, () => {});
    res?.write('data: {}\n\n');
  });
  const url = await listenAdmin(app, '127.0.0.1:0', 'test listener');
  return { url, port: Number(new URL(url).port) };
}

afterEach(async () => {
  await app?.close();
  app = null;
  changes = 0;
});

describe('DNS rebinding: Host must name the listener (docs/admin-api.md "Who may ask")', () => {
  test('a name the listener was not given is 421 before anything else runs: reads and changes alike, token or not', async () => {
    const { url, port } = await start();
    for (const method of ['GET', 'POST']) {
      const r = await request(`${url}/thing`, { method, headers: { host: `a.example:${port}`, origin: `http://a.example:${port}` }, body: method === 'POST' ? '{}' : undefined });
      expect([r.status, r.body], method).toEqual([421, 'This admin listener answers requests addressed to an IP address, localhost or a name given with --admin-allowed-host (Host was "a.example:' + port + '")\n']);
    }
    expect(changes).toBe(0);
    // Names a page cannot rebind: IP addresses (v4, v6), localhost, with or without the port.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'LOCALHOST', `10.1.2.3:${port + 1}`]) {
      expect((await request(`${url}/thing`, { headers: { host } })).status, host).toBe(200);
    }
    for (const host of ['', 'localhost.', `localhost.a.example:${port}`, 'a b', `127.0.0.1.nip.io:${port}`]) {
      expect((await request(`${url}/thing`, { headers: { host } })).status, host).toBe(421);
    }
  });

  test('--admin-allowed-host adds names; a bad name is refused when the listener is made', async () => {
    const { url, port } = await start({ allowedHosts: ['KMS1', 'lab-admin.example.'] });
    expect((await request(`${url}/thing`, { headers: { host: `kms1:${port}` } })).status).toBe(200);
    expect((await request(`${url}/thing`, { method: 'POST', headers: { host: `lab-admin.example:${port}`, origin: `http://lab-admin.example:${port}` } })).status).toBe(201);
    expect((await request(`${url}/thing`, { headers: { host: `kms2:${port}` } })).status).toBe(421);
    expect(() => createAdminApp({ notFound: '', allowedHosts: ['http://x/'] })).toThrow(/--admin-allowed-host "http:\/\/x\/" must be a DNS name/);
  });

  test("a change's Origin must be the listener's own origin, the one the request was addressed to", async () => {
    const { url, port } = await start({ allowedHosts: ['kms1'] });
    const post = (headers: Record<string, string>) => request(`${url}/thing`, { method: 'POST', headers: { host: `127.0.0.1:${port}`, ...headers } });
    expect((await post({ origin: `http://a.example:${port}` })).status).toBe(403);
    expect((await post({ origin: 'null' })).status).toBe(403);
    expect((await post({ origin: `http://kms1:${port}` })).status).toBe(403);
    expect((await post({ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(changes).toBe(0);
    expect((await post({ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(201);
    expect((await post({})).status).toBe(201);
  });
});

describe('the browser session (docs/admin-api.md "Tokens")', () => {
  test('?token= opens a session: the cookie holds a value of its own, not the token, for 12 hours', async () => {
    const { url, port } = await start({ token: TOKEN });
    const opened = await request(`${url}/thing?token=${TOKEN}&x=1`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/thing?x=1');
    const cookie = String(opened.headers['set-cookie']);
    expect(cookie).toMatch(new RegExp(`^kmslab_admin_${port}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200$`));
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0]!;
    expect((await request(`${url}/thing`, { headers: { cookie: session } })).status).toBe(200);
    // The token itself in the cookie (what kmslab sent before) is no session.
    expect((await request(`${url}/thing`, { headers: { cookie: `kmslab_admin_${port}=${TOKEN}` } })).status).toBe(401);
    now += 12 * 3_600_000 - 1;
    expect((await request(`${url}/thing`, { headers: { cookie: session } })).status).toBe(200);
    now += 1;
    expect((await request(`${url}/thing`, { headers: { cookie: session } })).status).toBe(401);
    expect((await request(`${url}/thing`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test('a malformed cookie is no session (401, not 500); ?token= on //evil.example stays on this listener', async () => {
    const { url, port } = await start({ token: TOKEN });
    const bad = await request(`${url}/thing`, { headers: { cookie: `kmslab_admin_${port}=%E0%A4%A; other=%` } });
    expect([bad.status, bad.body.split('\n').length]).toEqual([401, 2]);
    for (const path of ['/.//evil.example/x', '//evil.example/x', '/\\evil.example']) {
      const r = await request(`${url}${path}?token=${TOKEN}`);
      expect(r.status, path).toBe(303);
      expect(String(r.headers.location), path).toMatch(/^\/(?![/\\])/);
    }
  });
});

describe('one line and no hanging', () => {
  test('405 says which methods a path takes in Allow (RFC 9110 §15.5.6)', async () => {
    const { url } = await start();
    const r = await request(`${url}/thing`, { method: 'PUT', body: '{}' });
    expect([r.status, r.headers.allow, r.body]).toEqual([405, 'GET, HEAD, POST', 'GET or POST /thing\n']);
    const other = await request(`${url}/nothing`, { method: 'PATCH' });
    expect([other.status, other.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  test('HEAD on an event stream answers its headers and ends', async () => {
    const { url } = await start();
    const r = await request(`${url}/stream`, { method: 'HEAD' });
    expect([r.status, r.headers['content-type'], r.body]).toEqual([200, 'text/event-stream', '']);
  });

  test('a request whose body stalls loses its connection after the request timeout', async () => {
    const { port } = await start({ requestTimeoutMs: 500 });
    const started = Date.now();
    const closed = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.write(`POST /thing HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 100\r\n\r\n{"a":`));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', () => {});
    });
    expect(closed).toMatch(/^(HTTP\/1\.1 408|$)/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(changes).toBe(0);
  });
});

describe('errors a route throws', () => {
  test('answer with the status of their code in the error table, and their one line', async () => {
    const { url } = await start();
    for (const [code, status] of [['KMSLAB_UNKNOWN_PRODUCT', 400], ['KMSLAB_INVALID_ARGUMENT', 400], ['KMSLAB_HOST_UNAVAILABLE', 503], ['KMSLAB_DATA_DIR_LOCKED', 409], ['KMSLAB_INTERNAL', 500]] as const) {
      const res = await request(`${url}/fails/${code}`);
      expect(res.status, code).toBe(status);
      expect(res.body.trim().split('\n')).toHaveLength(1);
    }
  });
});
