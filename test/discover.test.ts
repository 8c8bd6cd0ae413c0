import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, startCliProcess } from './support/cli.js';
import { freePort } from '@kmslab/lab/live';
import { NamedServer } from './support/named.js';
import { run } from './support/dns-tools.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'kmslab-disc-'));

/** Stands in for a real KMS host (none runs here): accepts TCP, answers with bytes that are not kmslab's, closes. */
async function notKmslab(): Promise<{ port: number } & AsyncDisposable> {
  // resume(): read (and drop) what the client sends, so its close is seen and server.close() can finish.
  const server = createServer((s) => s.resume().end(Buffer.from([5, 0, 12, 3, 0x10, 0, 0, 0])));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, async [Symbol.asyncDispose]() { await new Promise((r) => server.close(r)); } };
}

interface Report {
  usable: boolean;
  errorCode: string | null;
  steps: Array<{ step: string; text: string }>;
  lookups: Array<{ domain: string; outcome: string; errorCode: string | null }>;
  hosts: Array<{ target: string; port: number; tcp: string; kmslab: unknown; verdict: string }>;
}

describe('kmslab discover', () => {
  test('against a BIND-served zone: every step shown; kmslab host, foreign service and dead port told apart', async () => {
    await using kms = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', 'off', '--data-dir', tmp(), '--host-id', 'kms-a']);
    await using foreign = await notKmslab();
    const dead = await freePort();
    const dir = tmp();
    writeFileSync(join(dir, 'lab.test.db'), [
      '$TTL 300', '@ SOA ns hostmaster 1 3600 600 604800 300', '@ NS ns', 'ns A 127.0.0.1',
      `_vlmcs._tcp SRV 0 0 ${kms.port} kms-a`, `_vlmcs._tcp SRV 10 0 ${foreign.port} winkms`, `_vlmcs._tcp SRV 20 0 ${dead} gone`,
      'kms-a A 127.0.0.1', 'winkms A 127.0.0.1', 'gone A 127.0.0.1', '',
    ].join('\n'));
    await using bind = await NamedServer.start(`zone "lab.test" { type primary; file "${join(dir, 'lab.test.db')}"; };`);
    const r = await runCli(['discover', '--dns', `127.0.0.1:${bind.port}`, '--domain', 'lab.test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.usable).toBe(true);
    // As a Windows workgroup client in a suffix domain: the domain-controller locator first (BIND: NXDOMAIN), then _VLMCS._TCP.
    expect(report.steps.map((s) => s.step)).toEqual(['locator', 'query', 'answer', 'order', 'resolve', 'resolve', 'resolve']);
    expect(report.steps[0]!.text).toMatch(/^SRV _ldap\._tcp\.dc\._msdcs\.WORKGROUP\.lab\.test at 127\.0\.0\.1:\d+: NXDOMAIN /);
    expect(report.steps[1]!.text).toBe(`SRV _VLMCS._TCP.lab.test at 127.0.0.1:${bind.port}`);
    expect(report.steps[3]!.text).toBe(`rfc2782: kms-a.lab.test:${kms.port} → winkms.lab.test:${foreign.port} → gone.lab.test:${dead}`);
    expect(report.hosts.map((h) => h.verdict)).toEqual([
      expect.stringMatching(/^kmslab host kms-a \(kmslab\/0\.1\.0, protocol 1\)$/),
      expect.stringMatching(/accepts TCP .* does not speak kmslab's protocol/),
      expect.stringMatching(/cannot connect/),
    ]);
    const text = await runCli(['discover', '--dns', `127.0.0.1:${bind.port}`, '--domain', 'lab.test']);
    expect(text.stdout).toContain('Result: a usable kmslab host was found.');
  });

  test('against kmslab DNS with no records, then only a foreign service: the last domain decides (REFUSED 0x8007232D), each lookup shown; then 0xC004F074; exit 2', async () => {
    const secret = Buffer.from('discover-test-secret-0123456789ab').toString('base64');
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', tmp(), '--tsig-key', `admin:hmac-sha256:${secret}`]);
    const none = await runCli(['discover', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--domain', 'other.test', '--json']);
    expect(none.code).toBe(2);
    const report = JSON.parse(none.stdout) as Report;
    // lab.test: NXDOMAIN (0x8007232B); other.test is not this server's zone, REFUSED: the code of the last domain tried.
    expect(report.errorCode).toBe('0x8007232D');
    expect(report.lookups.map((l) => [l.domain, l.outcome, l.errorCode])).toEqual([['lab.test', 'NXDOMAIN', '0x8007232B'], ['other.test', 'REFUSED', '0x8007232D']]);
    expect(report.steps.filter((s) => s.step === 'query').map((s) => s.text)).toEqual([`SRV _VLMCS._TCP.lab.test at 127.0.0.1:${dns.port}`, `SRV _VLMCS._TCP.other.test at 127.0.0.1:${dns.port}`]);
    // --profile plain: the lower-case name and no locator, as kmslab asked before it measured Windows.
    const plain = JSON.parse((await runCli(['discover', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--profile', 'plain', '--json'])).stdout) as Report;
    expect(plain.steps.filter((s) => s.step === 'query' || s.step === 'locator').map((s) => s.text)).toEqual([`SRV _vlmcs._tcp.lab.test at 127.0.0.1:${dns.port}`]);

    await using foreign = await notKmslab();
    const add = await run('nsupdate', ['-y', `hmac-sha256:admin:${secret}`], `server 127.0.0.1 ${dns.port}\nzone lab.test\nupdate add _vlmcs._tcp.lab.test 60 IN SRV 0 0 ${foreign.port} winkms.lab.test.\nupdate add winkms.lab.test 60 IN A 127.0.0.1\nsend\n`);
    expect(add.code, add.stderr).toBe(0);
    const onlyForeign = await runCli(['discover', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--json']);
    expect(onlyForeign.code).toBe(2);
    expect(JSON.parse(onlyForeign.stdout)).toMatchObject({ usable: false, errorCode: '0xC004F074', hosts: [{ tcp: 'connected', kmslab: null }] });
  });
});
