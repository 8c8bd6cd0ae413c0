import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FrameDecoder, decodeFrame, encodeActivationRequest, type Frame } from '@kmslab/core';
import { startHost, tempDir, TestClient } from './support/kms-host.js';
import { runCli, startCliProcess } from './support/cli.js';
import { dig } from './support/dns-tools.js';

/** Sends raw bytes, then reads until the host closes (or the timeout): what came back, and whether it closed. */
function exchange(port: number, bytes: Buffer, timeoutMs = 2000): Promise<{ frames: Frame[]; closed: boolean; raw: Buffer }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ frames: raw.length ? new FrameDecoder().push(raw).map(decodeFrame) : [], closed, raw });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', () => done(true));
    socket.on('error', () => {});
    socket.write(bytes);
  });
}

const valid = () =>
  encodeActivationRequest(7, {
    cmid: crypto.randomUUID(), productId: 'windows-7-professional', fqdn: 'pc.lab.test', clientTime: Date.now(), kind: 'activation', licenseStatus: 'initial-grace',
  });

describe('bad input on the KMS port (docs/protocol.md "Errors")', () => {
  test('bad magic: an error frame KMSLAB_MALFORMED_FRAME, then close', async () => {
    await using h = await startHost({ kind: 'memory' });
    const frame = valid();
    frame.writeUInt16BE(0x1234, 4);
    const r = await exchange(h.port, frame);
    expect(r.closed).toBe(true);
    expect(r.frames).toEqual([{ type: 'error', requestId: 0, body: expect.objectContaining({ code: 'KMSLAB_MALFORMED_FRAME' }) }]);
  });

  test('a body cut short or with trailing bytes: error frame naming the request id, then close', async () => {
    await using h = await startHost({ kind: 'memory' });
    const good = valid();
    const short = Buffer.from(good.subarray(0, good.length - 5));
    short.writeUInt32BE(short.length - 4, 0);
    const r = await exchange(h.port, short);
    expect(r.frames[0]).toMatchObject({ type: 'error', requestId: 7, body: { code: 'KMSLAB_MALFORMED_FRAME' } });
    expect(r.closed).toBe(true);
  });

  test('unknown frame type and unsupported version get their own codes', async () => {
    await using h = await startHost({ kind: 'memory' });
    const unknownType = valid();
    unknownType[7] = 0x42;
    expect((await exchange(h.port, unknownType)).frames[0]).toMatchObject({ requestId: 7, body: { code: 'KMSLAB_MALFORMED_FRAME' } });
    const v9 = valid();
    v9[6] = 9;
    expect((await exchange(h.port, v9)).frames[0]).toMatchObject({ requestId: 7, body: { code: 'KMSLAB_UNSUPPORTED_VERSION' } });
  });

  test('a product id with bytes outside ASCII (each OR 0x80) is KMSLAB_MALFORMED_REQUEST, counts nothing, and the connection goes on', async () => {
    await using h = await startHost({ kind: 'memory' });
    const frame = valid();
    const id = Buffer.from('windows-7-professional');
    const at = frame.indexOf(id);
    for (let i = 0; i < id.length; i++) frame[at + i]! |= 0x80;
    const bad = await exchange(h.port, Buffer.concat([frame, valid()]), 500);
    expect(bad.frames[0]).toMatchObject({ type: 'error', requestId: 7, body: { code: 'KMSLAB_MALFORMED_REQUEST', message: expect.stringMatching(/product id has byte 0xf7/) } });
    expect(bad.frames[1]).toMatchObject({ type: 'activationResponse', body: { count: 1 } });
    expect(bad.closed).toBe(false);
    // An FQDN that is not UTF-8 is refused the same way.
    const fqdn = valid();
    fqdn.write('\xff', fqdn.indexOf(Buffer.from('pc.lab.test')), 'latin1');
    expect((await exchange(h.port, fqdn, 500)).frames[0]).toMatchObject({ body: { code: 'KMSLAB_MALFORMED_REQUEST', message: expect.stringMatching(/client FQDN is not valid UTF-8/) } });
    expect((await h.status()).families.windows).toMatchObject({ currentCount: 1, totalRequests: 1 });
  });

  test('a frame over 64 KiB: KMSLAB_FRAME_TOO_LARGE and close, without reading the body', async () => {
    await using h = await startHost({ kind: 'memory' });
    const header = Buffer.alloc(12);
    header.writeUInt32BE(10 * 1024 * 1024, 0);
    const r = await exchange(h.port, header);
    expect(r.frames[0]).toMatchObject({ type: 'error', body: { code: 'KMSLAB_FRAME_TOO_LARGE' } });
    expect(r.closed).toBe(true);
  });

  test('a half-sent frame is closed after the idle timeout; a finished one on another connection is served', async () => {
    await using h = await startHost({ kind: 'memory' }, { idleTimeoutMs: 300 });
    const started = Date.now();
    const half = await exchange(h.port, valid().subarray(0, 20), 5000);
    expect(half.closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await using c = await TestClient.connect(h.port);
    expect((await c.activate('windows-7-professional')).count).toBe(1);
  });

  test('pipelined requests in one write get one answer each, matched by request id', async () => {
    await using h = await startHost({ kind: 'memory' });
    const frames = [1, 2, 3].map((id) =>
      encodeActivationRequest(id, { cmid: crypto.randomUUID(), productId: 'windows-7-professional', fqdn: '', clientTime: Date.now(), kind: 'activation', licenseStatus: 'unlicensed' }),
    );
    const r = await exchange(h.port, Buffer.concat(frames), 500);
    expect(r.frames.map((f) => f.requestId).sort()).toEqual([1, 2, 3]);
    expect(r.frames.map((f) => (f.type === 'activationResponse' ? f.body.count : -1)).sort()).toEqual([1, 2, 3]);
    expect(r.closed).toBe(false);
  });

  test('real Windows client: a DCE/RPC bind is detected from its header, logged, counted and closed with no answer', async () => {
    await using h = await startHost({ kind: 'memory' });
    // The first 16 bytes of a DCE/RPC bind PDU header (version 5.0, type 11): nothing of the activation protocol.
    const bind = Buffer.from([5, 0, 11, 3, 0x10, 0, 0, 0, 0x78, 0, 0, 0, 1, 0, 0, 0]);
    const r = await exchange(h.port, bind);
    expect(r.closed).toBe(true);
    expect(r.raw.length).toBe(0);
    expect((await h.status()).replica.realKmsClients).toBe(1);
    expect(await (await fetch(`${h.adminUrl}/metrics`)).text()).toMatch(/kmslab_real_kms_clients_total\{host_id="test-host"\} 1/);
  });

  test('bounded fuzz: 300 random or bit-flipped payloads never stop the host from serving', async () => {
    await using h = await startHost({ kind: 'memory' }, { idleTimeoutMs: 200 });
    const payloads = Array.from({ length: 300 }, (_, i) => {
      if (i % 3 === 0) return randomBytes(1 + (i % 200));
      const f = valid();
      f[4 + (i % (f.length - 4))]! ^= 1 << (i % 8);
      return i % 3 === 1 ? f : f.subarray(0, i % f.length);
    });
    for (let i = 0; i < payloads.length; i += 30) await Promise.all(payloads.slice(i, i + 30).map((p) => exchange(h.port, p, 1000)));
    await using c = await TestClient.connect(h.port);
    // Some flips only changed a CMID or the FQDN and were counted; the host still answers.
    expect((await c.activate('windows-7-professional')).count).toBeGreaterThanOrEqual(1);
    expect((await h.status()).replica.connections).toBeLessThanOrEqual(1);
  });
});

describe('what a user types gets one line with a documented code, checked before anything starts (issue 24 item 12)', () => {
  test('the walk: flags, files, folders, admin addresses and tokens — exit 1, one line, nothing left listening', async () => {
    await using dir = tempDir();
    const file = join(dir.path, 'a-file');
    writeFileSync(file, 'not a folder\n');
    mkdirSync(join(dir.path, 'real'));
    symlinkSync(join(dir.path, 'real'), join(dir.path, 'link'));
    const up = ['up', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', 'off'];
    const dns = ['dns', 'start', '--listen', '127.0.0.1', '--port', '0'];
    const host = ['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0'];
    const walk: Array<[string[], RegExp, Record<string, string>?]> = [
      [[...up, '--time-scale', '-1'], /--time-scale must be a number from 0\.001 to 1000000 \(got "-1"\)/],
      [[...up, '--time-scale', '0'], /--time-scale must be a number/],
      [[...up, '--time-scale', 'abc'], /--time-scale must be a number/],
      [[...up, '--time-scale', '2000000'], /--time-scale must be a number/],
      [[...up, '--log-level', 'loud'], /argument 'loud' is invalid\. Allowed choices are trace, debug, info, warn, error, silent/],
      [[...up, '--zone', 'bad zone!'], /The zone "bad zone!" must be a DNS name/],
      [[...up, '--fault', 'x.lab.test=drop,until=999999999w'], /until "999999999w" must be an ISO time or a duration of at most 3650d/],
      [['lab', 'run', 'reference-walkthrough', '--report', '/missing/x.html'], /--report \/missing\/x\.html: its folder \/missing does not exist/],
      [[...host, '--data-dir', file], /The data dir .*a-file cannot be used \(ENOTDIR: it, or a folder on its path, is a file\)/],
      [[...host, '--data-dir', join(file, 'sub')], /The data dir .*a-file\/sub cannot be used \(ENOTDIR/],
      [[...host, '--data-dir', '/proc/forbidden'], /The data dir \/proc\/forbidden cannot be used \(ENOENT: no folder can be made there\)/],
      [[...dns, '--data-dir', join(dir.path, 'd1'), '--query-log', '/missing/q.jsonl'], /Cannot open the query log file \/missing\/q\.jsonl \(ENOENT\): its folder must exist/],
      [[...dns, '--data-dir', join(dir.path, 'd2'), '--admin', 'bogus'], /The admin address must be HOST:PORT \(got "bogus"\)/],
      [[...dns, '--data-dir', join(dir.path, 'd3'), '--admin', '127.0.0.1:0'], /The admin token must be at least 16 characters/, { KMSLAB_ADMIN_TOKEN: 'short' }],
      [[...dns, '--data-dir', join(dir.path, 'd4'), '--admin', '127.0.0.1:0', '--admin-allowed-host', 'http://x'], /--admin-allowed-host "http:\/\/x" must be a DNS name/],
      [[...dns, '--data-dir', join(dir.path, 'd5'), '--fault', 'x.lab.test=drop,until=999999999w'], /until "999999999w" must be an ISO time or a duration of at most 3650d/],
      [['reset', '--dir', '.'], /\. is this folder or one above it/],
      [['reset', '--dir', 'link/'], /link\/ is a link/],
    ];
    for (const [args, message, env] of walk) {
      const r = await runCli(args, { cwd: dir.path, env: { ...process.env, ...env }, timeoutMs: 20_000 });
      const shown = args.join(' ');
      expect(r.code, `${shown}\n${r.stderr}`).toBe(1);
      expect(r.stderr, shown).toMatch(/^kmslab: [^\n]* \(KMSLAB_INVALID_ARGUMENT\)\n$/);
      expect(r.stderr, shown).toMatch(message);
      // Refused before anything started: no ready line was ever written.
      expect(r.stdout, shown).not.toContain('"event":"ready"');
    }
    // The real folder behind the link, and the file given as a data dir, are untouched.
    expect(existsSync(join(dir.path, 'real'))).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('not a folder\n');
  });

  test('the admin listener walk: a malformed cookie, HEAD on the event stream, ?token= towards another site, an oversized page, fault fields of the wrong type — one line each, and DNS keeps answering', async () => {
    await using dir = tempDir();
    process.env.KMSLAB_ADMIN_TOKEN = 'walk-token-0123456789abcdef';
    let dns;
    try {
      dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', join(dir.path, 'dns'), '--admin', '127.0.0.1:0']);
    } finally {
      delete process.env.KMSLAB_ADMIN_TOKEN;
    }
    await using _dns = dns;
    const auth = { authorization: 'Bearer walk-token-0123456789abcdef' };
    const port = new URL(dns.adminUrl).port;
    const cookie = await fetch(`${dns.adminUrl}/faults`, { headers: { cookie: `kmslab_admin_${port}=%E0%A4%A` } });
    expect(cookie.status).toBe(401);
    const head = await fetch(`${dns.adminUrl}/queries/stream`, { method: 'HEAD', headers: auth, signal: AbortSignal.timeout(5000) });
    expect([head.status, head.headers.get('content-type')]).toEqual([200, 'text/event-stream']);
    const redirect = await fetch(`${dns.adminUrl}/.//evil.example/x?token=walk-token-0123456789abcdef`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toMatch(/^\/[^/\\]/);
    const page = await fetch(`${dns.adminUrl}/queries?limit=1500000`, { headers: auth });
    expect([page.status, await page.text()]).toEqual([400, 'limit must be a whole number from 1 to 10000; read older entries with before=SEQ (the seq of the oldest you have)\n']);
    for (const body of [{ name: 'x.lab.test', action: 'drop', from: 127 }, { name: 'x.lab.test', action: 'drop', from: ['10.0.0.0/8'] }, { name: 'x.lab.test', action: 'drop', until: '999999999w' }, { name: '.', action: 'drop' }, { name: 'x\u0000.lab.test', action: 'drop' }]) {
      const r = await fetch(`${dns.adminUrl}/faults`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      const text = await r.text();
      expect([r.status, text.split('\n').length], JSON.stringify(body)).toEqual([400, 2]);
      expect(text).toMatch(/^Fault rule /);
    }
    expect(await (await fetch(`${dns.adminUrl}/faults`, { headers: auth })).json()).toEqual([]);
    expect((await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'SOA'])).status).toBe('NOERROR');
  });
});
