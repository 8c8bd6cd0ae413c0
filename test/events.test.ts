import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { waitFor, type KmsEvent } from '@kmslab/core';
import { freePort } from '@kmslab/lab/live';
import { KMSLAB_BIN, runCli, startCliProcess } from './support/cli.js';
import { eventually, events, publishingHost } from './support/host-events.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'kmslab-events-'));
const secret = () => randomBytes(32).toString('base64');

describe('the events a KMS host logs, as Windows does (12290, 12293, 12294)', () => {
  test('12293 names the DNS error each failed update got (BADKEY, BADSIG, REFUSED, a server not up yet) with its HRESULT; 12294 once publishing succeeds', async () => {
    const s = secret();
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', tmp(), '--tsig-key', `kms1:hmac-sha256:${s}:host=kms1.lab.test`]);
    // A key the server does not know, the right name with a wrong secret, a key not granted on this name.
    await using unknownKey = await publishingHost(dns.port, `other:hmac-sha256:${s}`, 'kms1.lab.test');
    await using wrongSecret = await publishingHost(dns.port, `kms1:hmac-sha256:${secret()}`, 'kms1.lab.test');
    await using notGranted = await publishingHost(dns.port, `kms1:hmac-sha256:${s}`, 'kms9.lab.test');
    const failed = (e: KmsEvent) => e.id === 12293;
    expect((await eventually(unknownKey.adminUrl, '12293', failed)).find(failed)).toMatchObject({ id: 12293, source: expect.any(String), domain: 'lab.test', fqdn: 'kms1.lab.test', dnsError: 'BADKEY', hresult: '0x80072339' });
    expect((await eventually(wrongSecret.adminUrl, '12293', failed)).find(failed)).toMatchObject({ dnsError: 'BADSIG', hresult: '0x80072338' });
    expect((await eventually(notGranted.adminUrl, '12293', failed)).find(failed)).toMatchObject({ dnsError: 'REFUSED', hresult: '0x8007232D', fqdn: 'kms9.lab.test' });

    // A DNS server that comes up after the host: 12293 (connection refused), then 12294 on a retry.
    const port = await freePort();
    await using early = await publishingHost(port, `kms1:hmac-sha256:${s}`, 'kms1.lab.test');
    expect((await eventually(early.adminUrl, '12293', failed)).find(failed)).toMatchObject({ dnsError: 'connection refused', hresult: '0x8007274D' });
    await using late = await startCliProcess(['dns', 'start', '--listen', '127.0.0.1', '--port', String(port), '--data-dir', tmp(), '--tsig-key', `kms1:hmac-sha256:${s}:host=kms1.lab.test`]);
    const after = await eventually(early.adminUrl, '12294', (e) => e.id === 12294);
    expect(after.find((e) => e.id === 12294)).toMatchObject({ id: 12294, domain: 'lab.test', fqdn: 'kms1.lab.test' });
    expect(after.findIndex(failed)).toBeLessThan(after.findIndex((e) => e.id === 12294));
    expect(late.port).toBe(port);
  });

  test('12293 for NOTAUTH (a server not authoritative for the zone) and for a DNS server that never answers (timeout, ERROR_TIMEOUT)', async () => {
    const s = secret();
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', tmp(), '--tsig-key', `kms1:hmac-sha256:${s}:host=kms1.lab.test`, '--fault', 'lab.test=update-notauth']);
    await using notAuth = await publishingHost(dns.port, `kms1:hmac-sha256:${s}`, 'kms1.lab.test');
    const failed = (e: KmsEvent) => e.id === 12293;
    expect((await eventually(notAuth.adminUrl, '12293', failed)).find(failed)).toMatchObject({ dnsError: 'NOTAUTH', hresult: '0x80072331', domain: 'lab.test' });
    // Accepts the update's TCP connection and never answers.
    const held: Socket[] = [];
    const mute = createServer((socket) => void held.push(socket.resume()));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      await using waiting = await publishingHost((mute.address() as AddressInfo).port, `kms1:hmac-sha256:${s}`, 'kms1.lab.test');
      expect((await eventually(waiting.adminUrl, '12293', failed)).find(failed)).toMatchObject({ dnsError: 'timeout', hresult: '0x800705B4' });
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((r) => mute.close(r));
    }
  });

  test('12290 for every request, refusals too, with the fields Windows logs; GET /events pages with after=; host events --follow prints each as it comes', async () => {
    await using host = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--data-dir', tmp(), '--host-id', 'kms-ev']);
    const target = `127.0.0.1:${host.port}`;
    const cmid = crypto.randomUUID();
    const follow = spawn(process.execPath, [KMSLAB_BIN, 'host', 'events', '--admin', host.adminUrl, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.on('data', (d) => (followed += d));
    const exited = new Promise((r) => follow.once('exit', r));
    try {
      await runCli(['activate', '--host', target, '--product', 'windows-11-pro', '--cmid', cmid, '--fqdn', 'pc1.lab.test']);
      await runCli(['activate', '--host', target, '--product', 'office-ltsc-2024-professional-plus']);
      const all = await events(host.adminUrl);
      expect(all).toEqual([
        expect.objectContaining({
          seq: 1, id: 12290, source: 'kms-ev', hresult: '0xC004F038', currentCount: 1, minimumCount: 25, cmid, fqdn: 'pc1.lab.test',
          activationId: 'windows-11-pro', licenseStatus: 'initial-grace', timeToExpirationMin: 0, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
          clientTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        }),
        // No Office LTSC 2024 pack on this host: refused before counting.
        expect.objectContaining({ seq: 2, id: 12290, hresult: '0xC004F042', currentCount: null, minimumCount: 5, activationId: 'office-ltsc-2024-professional-plus' }),
      ]);
      const page = (await (await fetch(`${host.adminUrl}/events?after=1`)).json()) as { last: number; events: KmsEvent[] };
      expect(page).toMatchObject({ last: 2, events: [{ seq: 2 }] });
      expect((await fetch(`${host.adminUrl}/events?after=x`)).status).toBe(400);
      await waitFor(() => followed.split('\n').filter((l) => / 12290 {2}kms-ev {2}request from /.test(l)).length === 2, { timeoutMs: 10_000, everyMs: 50, timedOut: () => new Error(`--follow printed:\n${followed}`) });
      expect(followed).toMatch(/ 12290 {2}kms-ev {2}request from pc1\.lab\.test \(127\.0\.0\.1:\d+\): 0xC004F038, count 1 of 25, windows-11-pro, initial-grace/);
      const text = await runCli(['host', 'events', '--admin', host.adminUrl, '--after', '1']);
      expect(text.stdout.trim().split('\n')).toEqual([expect.stringMatching(/ 12290 {2}kms-ev {2}request from .*: 0xC004F042, count - of 5, office-ltsc-2024-professional-plus/)]);
    } finally {
      follow.kill('SIGINT');
      await exited;
    }
  });

  test('a client logs 12288 per request sent and 12289 per answer processed: client events reads them from its state folder, client run --admin serves them at GET /events', async () => {
    await using host = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', 'off', '--data-dir', tmp()]);
    const state = tmp();
    const client = (...args: string[]) => runCli(['client', ...args, '--state-dir', state]);
    await client('set-host', `127.0.0.1:${host.port}`);
    await client('activate', '--product', 'windows-11-pro');
    const dead = await freePort();
    await client('set-host', `127.0.0.1:${dead}`);
    await client('activate');
    const logged = (await client('events', '--json')).stdout.trim().split('\n').map((l) => JSON.parse(l) as KmsEvent);
    expect(logged).toEqual([
      expect.objectContaining({
        seq: 1, id: 12288, hresult: '0x0', server: `127.0.0.1:${host.port}`, licenseStatus: 'initial-grace', activationId: 'windows-11-pro', minimumCount: 25,
        cmid: expect.stringMatching(/^[0-9a-f-]{36}$/), clientTime: expect.stringMatching(/^\d{4}-/), timeToExpirationMin: expect.any(Number),
      }),
      expect.objectContaining({ seq: 2, id: 12289, hresult: '0xC004F038', activated: false, currentCount: 1, activationIntervalMin: 120, renewalIntervalMin: 10080 }),
      // The host could not be reached: the request did not go out, and there is no answer to process.
      expect.objectContaining({ seq: 3, id: 12288, hresult: '0xC004F074', server: `127.0.0.1:${dead}` }),
    ]);
    // Thirty days of initial grace, counted down from the first contact.
    expect((logged[0] as { timeToExpirationMin: number }).timeToExpirationMin).toBeGreaterThan(43_190);
    expect((await client('events', '--after', '2')).stdout).toMatch(/^\S+ {2}12288 {2}\S+ {2}activation request sent to 127\.0\.0\.1:\d+: 0xC004F074 \(windows-11-pro, initial-grace, needs a count of 25, cmid /);

    // A new machine running the agent contacts the host at once (the first client's next contact is hours away).
    const agentState = tmp();
    await runCli(['client', 'set-host', `127.0.0.1:${host.port}`, '--state-dir', agentState]);
    const run = spawn(process.execPath, [KMSLAB_BIN, 'client', 'run', '--product', 'windows-11-pro', '--state-dir', agentState, '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => run.once('exit', r));
    try {
      const admin = await waitFor(() => /"event":"ready","admin":"([^"]+)"/.exec(out)?.[1], { timeoutMs: 10_000, everyMs: 25, timedOut: () => new Error(`client run printed:\n${out}`) });
      const page = await waitFor(async () => {
        const p = (await (await fetch(`${admin}/events`)).json()) as { events: KmsEvent[] };
        return p.events.length >= 2 ? p : undefined;
      }, { timeoutMs: 10_000, everyMs: 50, timedOut: () => new Error('the agent logged no events') });
      expect(page.events.map((e) => [e.seq, e.id])).toEqual([[1, 12288], [2, 12289]]);
      expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    } finally {
      run.kill('SIGTERM');
      await exited;
    }
    // What the agent logged is in the folder too.
    expect((await runCli(['client', 'events', '--json', '--state-dir', agentState])).stdout.trim().split('\n')).toHaveLength(2);
  });
});
