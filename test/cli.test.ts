import { tmpdir } from 'node:os';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ActivationResult } from '@kmslab/core';
import { RedisServer, redisForTest } from './support/redis-server.js';
import { HoldProxy } from './support/hold-proxy.js';
import { runCli, startCliHost, startCliProcess } from './support/cli.js';
import { dig } from './support/dns-tools.js';
import { tempDir } from './support/kms-host.js';

let redis: { url: string } & AsyncDisposable;
beforeAll(async () => {
  redis = await redisForTest();
});
afterAll(async () => {
  await redis?.[Symbol.asyncDispose]();
});


describe.each(['memory', 'redis'] as const)('reference walkthrough through the CLI, %s store', (store) => {
  test('kmslab activate --json: counts 2, 3, 13; server licensed at 13; Windows 7 needs 12 more, then licensed', async () => {
    const storeArgs = store === 'redis' ? ['--store', 'redis', '--redis-url', redis.url, '--host-id', `cli-${Date.now()}`] : ['--data-dir', `${tmpdir()}/kmslab-cli-${process.pid}-${Date.now()}`];
    await using host = await startCliHost(['--key-group', 'windows-server-2008-r2-b', ...storeArgs]);
    const target = `127.0.0.1:${host.port}`;
    const activate = async (product: string, ...extra: string[]) => {
      const r = await runCli(['activate', '--host', target, '--product', product, '--json', ...extra]);
      const out = JSON.parse(r.stdout) as ActivationResult;
      expect(r.code, r.stderr).toBe(out.licensed ? 0 : 2);
      return out;
    };
    const serverCmid = crypto.randomUUID();
    const win7Cmid = crypto.randomUUID();

    expect(await activate('windows-7-professional', '--cmid', win7Cmid)).toMatchObject({ count: 1, licensed: false, errorCode: '0xC004F038', threshold: 25 });
    expect(await activate('windows-7-enterprise')).toMatchObject({ count: 2, licensed: false, errorCode: '0xC004F038', product: 'windows-7-enterprise' });
    expect(await activate('windows-server-2008-r2-enterprise', '--cmid', serverCmid)).toMatchObject({ count: 3, licensed: false, threshold: 5 });
    const ten = await Promise.all(Array.from({ length: 10 }, () => activate('windows-7-professional')));
    expect(ten.map((r) => r.count).sort((a, b) => a! - b!)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(await activate('windows-server-2008-r2-enterprise', '--cmid', serverCmid, '--renew')).toMatchObject({ count: 13, licensed: true, errorCode: null });
    const again = await activate('windows-7-professional', '--cmid', win7Cmid);
    expect(again).toMatchObject({ count: 13, licensed: false, errorCode: '0xC004F038' });
    expect(again.threshold - again.count!).toBe(12);
    const twelve = await Promise.all(Array.from({ length: 12 }, () => activate('windows-7-professional')));
    expect(Math.max(...twelve.map((r) => r.count!))).toBe(25);
    expect(await activate('windows-7-professional', '--cmid', win7Cmid)).toMatchObject({ count: 25, licensed: true, host: target });

    const status = await runCli(['host', 'status', '--admin', host.adminUrl]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Current count: 25');
    expect(status.stdout).toContain('Total requests received: 28');
    const json = JSON.parse((await runCli(['host', 'status', '--admin', host.adminUrl, '--json'])).stdout);
    expect(json.families.windows.currentCount).toBe(25);

    // One log event per request with the fields of a KMS host's per-request event
    // (buffered, flushed within a second).
    const logged = () => host.logs().split('\n').filter((l) => l.includes('"event":"activation-request"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    await expect.poll(() => logged().length, { timeout: 4000, interval: 100 }).toBe(28);
    const events = logged();
    const serverLicensed = events.find((e) => e.cmid === serverCmid && e.outcome === 'licensed');
    expect(serverLicensed).toMatchObject({ product: 'windows-server-2008-r2-enterprise', count: 13, threshold: 5, expiresInMin: 259200, errorCode: null });
    expect(serverLicensed).toHaveProperty('fqdn');
    expect(events.filter((e) => e.outcome === 'count-insufficient')).toHaveLength(25);
  });
});

describe('CLI surface', () => {
  test('products --json lists the catalog with the products the docs name', async () => {
    const r = await runCli(['products', '--json']);
    expect(r.code).toBe(0);
    const ids = (JSON.parse(r.stdout) as Array<{ id: string; threshold: number; family: string }>).map((p) => p.id);
    for (const id of ['windows-7-professional', 'windows-7-enterprise', 'windows-server-2008-r2-standard', 'windows-server-2008-r2-enterprise', 'office-2010-professional-plus', 'office-2013-professional-plus']) {
      expect(ids).toContain(id);
    }
  });

  test('a user error is one line with its code and no stack trace; exit 1', async () => {
    const r = await runCli(['activate', '--host', '127.0.0.1:1688', '--product', 'windows-99']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^kmslab: Unknown product "windows-99".*\(KMSLAB_UNKNOWN_PRODUCT\)/);
  });

  test('an unreachable host reads as 0xC004F074 in --json, exit non-zero', async () => {
    const r = await runCli(['activate', '--host', '127.0.0.1:1', '--product', 'windows-7-professional', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ licensed: false, count: null, errorCode: '0xC004F074', host: null, tried: [{ host: '127.0.0.1:1', discoveredBy: 'manual', error: expect.stringMatching(/^KMSLAB_CONNECTION_FAILED: /) }] });
  });

  test('usage errors are one line and exit 1', async () => {
    const r = await runCli(['activate', '--host', 'x', '--product', 'windows-7-professional', '--bogus']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(["kmslab: unknown option '--bogus' (KMSLAB_INVALID_ARGUMENT)"]);
  });

  test('`pnpm kmslab … --json` from the repository root prints only the JSON (scripts pipe it)', async () => {
    // Under `pnpm test` npm_execpath is pnpm itself; otherwise pnpm from PATH.
    const viaExecpath = process.env.npm_execpath?.includes('pnpm');
    const [cmd, ...pre] = viaExecpath ? [process.execPath, process.env.npm_execpath!] : ['pnpm'];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(cmd!, [...pre, 'kmslab', 'products', '--json'], { cwd: new URL('..', import.meta.url) }, (err, stdout) =>
        err ? reject(new Error(`pnpm kmslab failed (${err.message}); run the suite with pnpm (npx -y pnpm@10 test)`)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out).length).toBeGreaterThan(10);
  });

  test('every command has --help', async () => {
    for (const args of [[], ['host'], ['host', 'start'], ['host', 'status'], ['activate'], ['products'], ['key-groups']]) {
      const r = await runCli([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: kmslab');
    }
  });

  test('host status against nothing says how to fix it', async () => {
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as AddressInfo).port;
    await new Promise((r) => free.close(r));
    const r = await runCli(['host', 'status', '--admin', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kmslab: No kmslab admin listener answers at http://127.0.0.1:${port} (connection refused: no host listens there); start a host with \`kmslab host start\`, or pass --admin for the one you started (KMSLAB_CONNECTION_FAILED)\n`);
  });
});

describe('host start failures', () => {
  test('an unreachable Redis at start-up is one clear line and exit 1', async () => {
    const r = await runCli(['host', 'start', '--store', 'redis', '--redis-url', 'redis://127.0.0.1:1', '--port', '0', '--admin', 'off']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmslab: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); start Redis, or use the embedded store/);
  });

  test('--redis-wait: a host started before its Redis keeps trying and serves once Redis is up', async () => {
    await using redis = await RedisServer.start({ durable: false });
    await redis.stop(); // its port is known and nothing listens there yet
    // Through a proxy that counts the host's attempts: the second one means it kept trying.
    await using proxy = await HoldProxy.start(redis.port);
    const starting = startCliHost(['--store', 'redis', '--redis-url', `redis://127.0.0.1:${proxy.port}`, '--redis-wait', '20s', '--host-id', `wait-${process.pid}`]);
    let ready = false;
    void starting.then(() => (ready = true), () => {});
    await proxy.connections(2);
    expect(ready).toBe(false);
    await redis.resume();
    await using host = await starting;
    const r = await runCli(['activate', '--host', `127.0.0.1:${host.port}`, '--product', 'windows-10-pro', '--json']);
    expect(JSON.parse(r.stdout), r.stderr).toMatchObject({ count: 1, licensed: false });
    const bad = await runCli(['host', 'start', '--store', 'redis', '--redis-wait', 'soon', '--admin', 'off']);
    expect(bad.stderr).toBe('kmslab: --redis-wait must be a duration such as 30s, 2m or 1h (got "soon") (KMSLAB_INVALID_ARGUMENT)\n');
  });

  test('a port in use is reported, not a stack trace', async () => {
    await using first = await startCliHost(['--data-dir', `${tmpdir()}/kmslab-port-${process.pid}`]);
    const r = await runCli(['host', 'start', '--listen', '127.0.0.1', '--port', String(first.port), '--admin', 'off', '--data-dir', `${tmpdir()}/kmslab-port2-${process.pid}`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/address already in use/i);
  });
});

describe('CLI rough edges', () => {
  const COMMANDS = [[], ['host'], ['host', 'start'], ['host', 'status'], ['dns', 'start'], ['dns', 'records'], ['client', 'activate'], ['client', 'run'], ['discover'], ['lab', 'run'], ['lab', 'fleet'], ['up'], ['activate'], ['products'], ['healthcheck'], ['completion']];

  test('help fits 80 columns for every command; environment variables are listed where they are read', async () => {
    for (const args of COMMANDS) {
      const r = await runCli([...args, '--help']);
      for (const line of r.stdout.split('\n')) expect(line.length, `${args.join(' ')}: ${line}`).toBeLessThanOrEqual(80);
    }
    const host = (await runCli(['host', 'start', '--help'])).stdout;
    expect(host).toMatch(/Environment:\n(.*\n)*  KMSLAB_DATA_DIR /);
    expect(host).toContain('KMSLAB_ADMIN_TOKEN');
    expect((await runCli(['client', 'activate', '--help'])).stdout).toContain('KMSLAB_CLIENT_STATE');
    expect((await runCli(['dns', 'start', '--help'])).stdout).toContain('KMSLAB_DNS_DATA_DIR');
    // A random default would be a different client each time you read the help.
    expect((await runCli(['activate', '--help'])).stdout).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  test('numbers are checked (--timeout abc), --version and -v, lab list --json', async () => {
    const bad = await runCli(['activate', '--host', '127.0.0.1:1', '--product', 'windows-10-pro', '--timeout', 'abc']);
    expect(bad.stderr).toBe('kmslab: --timeout must be a whole number from 1 to 600000 (got "abc") (KMSLAB_INVALID_ARGUMENT)\n');
    const version = JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')).version;
    expect((await runCli(['-v'])).stdout).toBe(`${version}\n`);
    expect((await runCli(['--version'])).stdout).toBe(`${version}\n`);
    const list = JSON.parse((await runCli(['lab', 'list', '--json'])).stdout) as Array<{ name: string; description: string }>;
    expect(list.map((s) => s.name)).toContain('reference-walkthrough');
  });

  test('something other than a kmslab host on the port is named (HTTP), not "Frame of 1213486164 bytes"', async () => {
    const web = createServer((_, res) => res.end('hello'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    try {
      const port = (web.address() as AddressInfo).port;
      const r = await runCli(['activate', '--host', `127.0.0.1:${port}`, '--product', 'windows-10-pro', '--json']);
      // A Windows client reports a service that is not KMS as it reports a dead port; what answered is in the message.
      expect(JSON.parse(r.stdout)).toMatchObject({ errorCode: '0xC004F074', message: expect.stringMatching(/speaks HTTP \(a web server answered\), not kmslab's protocol/), tried: [{ discoveredBy: 'manual', error: expect.stringMatching(/^KMSLAB_MALFORMED_FRAME: /) }] });
    } finally {
      web.close();
    }
  });

  test('--client-time takes the scenario durations (+3h59m, +1d); --renew alone is not a licensed client; host status takes HOST:PORT and healthcheck a URL', async () => {
    await using dir = tempDir();
    await using host = await startCliHost(['--data-dir', join(dir.path, 'data')]);
    const target = `127.0.0.1:${host.port}`;
    const activate = async (...extra: string[]) => JSON.parse((await runCli(['activate', '--host', target, '--product', 'windows-10-pro', '--json', ...extra])).stdout);
    expect(await activate('--client-time', '+3h59m')).toMatchObject({ count: 1, errorCode: '0xC004F038' });
    expect(await activate('--client-time', '+1d')).toMatchObject({ count: null, errorCode: '0xC004F06C' });
    expect(await activate('--renew')).toMatchObject({ count: 2 });
    const adminHostPort = new URL(host.adminUrl).host;
    const status = JSON.parse((await runCli(['host', 'status', '--admin', adminHostPort, '--json'])).stdout);
    expect(status.families.windows.requestsByStatus).toMatchObject({ 'initial-grace': 3, licensed: 0 });
    expect((await runCli(['healthcheck', '--admin', host.adminUrl])).stdout).toBe('host admin /healthz: 200\n');
  });

  test('dns start: --zone NAME beside --zone-file for the same zone serves the file; the same --zone twice says which to drop', async () => {
    await using dir = tempDir();
    const file = join(dir.path, 'lab.zone');
    writeFileSync(file, '$ORIGIN lab.test.\n@ 60 IN SOA ns h 7 60 60 60 60\n@ 60 IN NS ns\nns 60 IN A 127.0.0.1\nkms1 60 IN A 127.0.0.9\n');
    await using dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--zone-file', file, '--data-dir', join(dir.path, 'dns')]);
    expect((await dig('dig', '127.0.0.1', dns.port, ['kms1.lab.test', 'A'])).answer[0]).toMatch(/127\.0\.0\.9$/);
    const twice = await runCli(['dns', 'start', '--port', '0', '--zone', 'a.test', '--zone', 'a.test', '--data-dir', join(dir.path, 'dns2')]);
    expect(twice.stderr).toMatch(/^kmslab: Zone a\.test is given twice: drop one --zone a\.test/);
  });

  test('kmslab completion bash|zsh|fish: scripts generated from the commands themselves; bash completes subcommands and options', async () => {
    const script = (await runCli(['completion', 'bash'])).stdout;
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kmslab; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).stdout.trim();
    expect(complete(['kmslab', 'ho'])).toBe('host');
    expect(complete(['kmslab', 'host', 'st']).split(' ').sort()).toEqual(['start', 'status']);
    expect(complete(['kmslab', 'host', 'start', '--admin-t']).split(' ').sort()).toEqual(['--admin-token', '--admin-token-file']);
    expect(complete(['kmslab', 'activate', '--product', 'windows-10-pro', '--js'])).toBe('--json');
    expect((await runCli(['completion', 'zsh'])).stdout).toMatch(/^#compdef kmslab/);
    expect((await runCli(['completion', 'fish'])).stdout).toContain("complete -c kmslab -n '__fish_seen_subcommand_from host' -a start");
    expect((await runCli(['completion', 'tcsh'])).stderr).toMatch(/^kmslab: .*tcsh.*\(KMSLAB_INVALID_ARGUMENT\)\n$/);
  });

  test('kmslab reset forgets what earlier runs kept in .kmslab: a new client machine and a host counting from zero', async () => {
    await using dir = tempDir();
    const kmslab = join(dir.path, '.kmslab');
    const hostArgs = ['--data-dir', join(kmslab, 'kms'), '--host-id', 'kms'];
    {
      await using host = await startCliHost(hostArgs);
      await runCli(['client', 'set-host', `127.0.0.1:${host.port}`, '--state-dir', join(kmslab, 'client')]);
      const first = JSON.parse((await runCli(['client', 'activate', '--product', 'windows-10-pro', '--state-dir', join(kmslab, 'client'), '--json'])).stdout);
      expect(first.count).toBe(1);
    }
    const r = await runCli(['reset', '--dir', kmslab]);
    expect(r.stdout).toMatch(/^forgot .*\.kmslab:\n/);
    expect(r.stdout).toMatch(/^  host kms: 1 clients, 1 requests \(memory store, kms\)$/m);
    expect(r.stdout).toMatch(/^  client machine [0-9a-f-]{36}: windows-10-pro, [a-z-]+, host set to 127\.0\.0\.1:\d+.* \(client\)$/m);
    expect((await runCli(['reset', '--dir', kmslab])).stdout).toMatch(/nothing to reset/);
    await using host = await startCliHost(hostArgs);
    // (A DNS server on loopback that is not there: the test asks nothing beyond this machine.)
    const again = await runCli(['client', 'activate', '--product', 'windows-10-pro', '--state-dir', join(kmslab, 'client'), '--dns', '127.0.0.1:9', '--domain', 'lab.test', '--json']);
    // The manual host went with the state: the client has nothing to ask until it is told again.
    expect(JSON.parse(again.stdout)).toMatchObject({ licensed: false, host: null });
    await runCli(['client', 'set-host', `127.0.0.1:${host.port}`, '--state-dir', join(kmslab, 'client')]);
    expect(JSON.parse((await runCli(['client', 'activate', '--product', 'windows-10-pro', '--state-dir', join(kmslab, 'client'), '--json'])).stdout).count).toBe(1);
  });
});
