import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redisForTest } from './support/redis-server.js';
import { runCli, startCliHost } from './support/cli.js';

let redis: { url: string } & AsyncDisposable;
beforeAll(async () => {
  redis = await redisForTest();
});
afterAll(async () => {
  await redis?.[Symbol.asyncDispose]();
});

interface Activation {
  count: number | null;
  threshold: number;
  licensed: boolean;
  product: string;
  errorCode: string | null;
  host: string;
}

describe.each(['memory', 'redis'] as const)('reference walkthrough through the CLI, %s store', (store) => {
  test('kmslab activate --json: counts 2, 3, 13; server licensed at 13; Windows 7 needs 12 more, then licensed', async () => {
    const storeArgs = store === 'redis' ? ['--store', 'redis', '--redis-url', redis.url, '--host-id', `cli-${Date.now()}`] : ['--data-dir', `/tmp/kmslab-cli-${process.pid}-${Date.now()}`];
    await using host = await startCliHost(['--key-group', 'windows-server-2008-r2-b', ...storeArgs]);
    const target = `127.0.0.1:${host.port}`;
    const activate = async (product: string, ...extra: string[]) => {
      const r = await runCli(['activate', '--host', target, '--product', product, '--json', ...extra]);
      const out = JSON.parse(r.stdout) as Activation;
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
    let events: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 40 && events.length < 28; i++) {
      await new Promise((r) => setTimeout(r, 100));
      events = host.logs().split('\n').filter((l) => l.includes('"event":"activation-request"')).map((l) => JSON.parse(l));
    }
    expect(events).toHaveLength(28);
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
    expect(JSON.parse(r.stdout)).toMatchObject({ licensed: false, count: null, errorCode: '0xC004F074' });
  });

  test('usage errors are one line and exit 1', async () => {
    const r = await runCli(['activate', '--host', 'x', '--product', 'windows-7-professional', '--bogus']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(["error: unknown option '--bogus'"]);
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
    const r = await runCli(['host', 'status', '--admin', '127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot read http:\/\/127\.0\.0\.1:1\/status/);
  });
});

describe('host start failures', () => {
  test('an unreachable Redis at start-up is one clear line and exit 1', async () => {
    const r = await runCli(['host', 'start', '--store', 'redis', '--redis-url', 'redis://127.0.0.1:1', '--port', '0', '--admin', 'off']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmslab: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); start Redis, or use the embedded store/);
  });

  test('a port in use is reported, not a stack trace', async () => {
    await using first = await startCliHost(['--data-dir', `/tmp/kmslab-port-${process.pid}`]);
    const r = await runCli(['host', 'start', '--listen', '127.0.0.1', '--port', String(first.port), '--admin', 'off', '--data-dir', `/tmp/kmslab-port2-${process.pid}`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/address already in use/i);
  });
});
