import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import type { HostStatus } from '@kmslab/host';
import { dig } from './support/dns-tools.js';
import { runCli, startCliProcess } from './support/cli.js';
import { startKmslabProcess } from '@kmslab/lab/live';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('kmslab up (training mode)', () => {
  test('DNS, two publishing hosts and simulated clients in one process; the count rises and clients activate through DNS', async () => {
    // Port 0 everywhere: each listener gets a free port; the ready line says which.
    await using lab = await startCliProcess([
      'up', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', '127.0.0.1:0',
      '--hosts', '2', '--clients', '30', '--time-scale', '3600', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-up-')), '--seed', '7',
    ]);
    const ready = JSON.parse(lab.logs().split('\n').find((l) => l.includes('"event":"ready"'))!) as { dnsPort: number; hosts: Array<{ port: number; admin: string }> };
    const dnsPort = ready.dnsPort;
    const [kms1, kms2] = ready.hosts;
    const kmsPort = kms1!.port;
    const admin = kms1!.admin;
    const srv = await dig('dig', '127.0.0.1', dnsPort, ['_vlmcs._tcp.lab.test', 'SRV']);
    expect(srv.answer.map((l) => l.split(' ').slice(4).join(' ')).sort()).toEqual([`0 0 ${kmsPort} kms1.lab.test.`, `10 0 ${kms2!.port} kms2.lab.test.`]);
    // Lab time runs 3,600× faster: within seconds every client has asked the priority-0 host (30 ≥ 25 and ≥ 5).
    const readStatus = async () => (await (await fetch(`${admin}/status`)).json()) as HostStatus;
    await expect.poll(async () => (await readStatus()).families.windows?.currentCount, { timeout: 20_000, interval: 200 }).toBe(30);
    const status = await readStatus();
    expect(status.publishing).toMatchObject({ fqdn: 'kms1.lab.test', lastError: null });
    // A real client from outside the process finds a host through the lab DNS.
    const me = await runCli(['client', 'activate', '--product', 'windows-10-pro', '--dns', `127.0.0.1:${dnsPort}`, '--domain', 'lab.test', '--state-dir', mkdtempSync(join(tmpdir(), 'kmslab-up-c-')), '--json']);
    expect(JSON.parse(me.stdout)).toMatchObject({ licensed: true, discoveredBy: 'dns', host: `kms1.lab.test:${kmsPort}` });
    lab.proc.kill('SIGTERM');
    expect(await lab.exited).toBe(0);
  });

  test('--secondaries 2: kmslab secondaries of the lab DNS answer what the hosts published; /zones gives each one\'s serial; the clients, spread across the three servers, all reach the host', async () => {
    await using lab = await startCliProcess([
      'up', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', '127.0.0.1:0', '--secondaries', '2',
      '--clients', '30', '--time-scale', '3600', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-up-')), '--seed', '7',
    ]);
    const ready = JSON.parse(lab.logs().split('\n').find((l) => l.includes('"event":"ready"'))!) as { dnsPort: number; secondaryPorts: number[]; dnsAdmin: string; dashboard: string; hosts: Array<{ port: number; admin: string }> };
    expect(ready.secondaryPorts).toHaveLength(2);
    for (const port of ready.secondaryPorts) {
      await expect.poll(async () => (await dig('dig', '127.0.0.1', port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.length, { timeout: 10_000, interval: 100 }).toBe(1);
    }
    const zones = (await (await fetch(`${ready.dnsAdmin}/zones`)).json()) as Array<{ serial: number; replicas: Array<{ server: string; serial: number | null }> }>;
    expect(zones[0]!.replicas).toEqual(ready.secondaryPorts.map((p) => ({ server: `127.0.0.1:${p}`, serial: zones[0]!.serial })));
    await expect.poll(async () => ((await (await fetch(`${ready.hosts[0]!.admin}/status`)).json()) as HostStatus).families.windows?.currentCount, { timeout: 20_000, interval: 200 }).toBe(30);
    await expect.poll(() => lab.logs()).toContain('Secondary 127.0.0.1:');
    // The dashboard's state carries them: its DNS panel shows each server's serial.
    const state = (await (await fetch(`${ready.hosts[0]!.admin}/api/state`)).json()) as { dns: { zones: Array<{ replicas?: unknown[] }> } };
    expect(state.dns.zones[0]!.replicas).toHaveLength(2);
  });

  test('--fault: a malformed rule is one line naming the part that is wrong, and no lab starts', async () => {
    const r = await runCli(['up', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', 'off', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-up-')), '--fault', '_vlmcs._tcp.lab.test/SRV=servfail,probability=7']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmslab: Fault rule ".*": probability "7" must be a number from 0 to 1 \(docs\/dns-faults\.md\) \(KMSLAB_INVALID_ARGUMENT\)\n$/);
  });

  test("the README's `pnpm start -- --clients 30 --time-scale 720` form: pnpm's `--` reaches kmslab up, which takes the flags after it", async () => {
    const viaExecpath = process.env.npm_execpath?.includes('pnpm');
    const command = viaExecpath ? [process.execPath, process.env.npm_execpath!] : ['pnpm'];
    await using lab = await startKmslabProcess(command, [
      'start', '--', '--clients', '30', '--time-scale', '720', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', '127.0.0.1:0',
      '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-up-')),
    ]);
    expect(lab.ready).toMatchObject({ clients: 30, zone: 'lab.test' });
  });

  test('Ctrl-C on pnpm start (SIGINT to the whole process group, as a terminal sends it): kmslab up stops cleanly, says what it kept, and pnpm exits 0 with no ELIFECYCLE', async () => {
    const viaExecpath = process.env.npm_execpath?.includes('pnpm');
    const [cmd, ...pre] = viaExecpath ? [process.execPath, process.env.npm_execpath!] : ['pnpm'];
    const dataDir = mkdtempSync(join(tmpdir(), 'kmslab-up-'));
    const p = spawn(cmd!, [...pre, 'start', '--', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', 'off', '--data-dir', dataDir], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    try {
      await expect.poll(() => out, { timeout: 30_000 }).toContain('Ctrl-C stops the lab.');
      process.kill(-p.pid!, 'SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (p.exitCode === null) process.kill(-p.pid!, 'SIGKILL');
    }
    expect(out).toContain(`kmslab lab "lab.test" stopped; its hosts' counts are kept in ${dataDir} for the next kmslab up (kmslab reset forgets them)`);
    expect(out).not.toMatch(/ELIFECYCLE|Command failed/);
  });
});
