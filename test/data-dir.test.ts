import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, startCliHost, startCliProcess } from './support/cli.js';
import { TestClient, tempDir } from './support/kms-host.js';

const PRODUCT = 'windows-10-enterprise';
const cmids = Array.from({ length: 20 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

/** One line, kmslab's own form, exit 1. */
function expectOneLine(r: { code: number; stderr: string }, code: string, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^kmslab: [^\\n]*\\(${code}\\)\\n$`));
  expect(r.stderr).toMatch(pattern);
}

describe('one process per data dir (nothing acknowledged is lost)', () => {
  test('a second host start on the same folder (the default .kmslab/<host-id> from one folder) is refused naming the first one’s PID; after kill -9 the next start takes the lock over and has every acknowledged client', async () => {
    await using dir = tempDir();
    const args = ['--host-id', 'vm'];
    const first = await startCliHost(args, { cwd: dir.path });
    {
      await using c = await TestClient.connect(first.port);
      for (const cmid of cmids) await c.activate(PRODUCT, cmid);
    }
    const second = await runCli(['host', 'start', '--port', '0', '--listen', '127.0.0.1', '--admin', '127.0.0.1:0', ...args], { cwd: dir.path });
    expectOneLine(second, 'KMSLAB_DATA_DIR_LOCKED', new RegExp(`^kmslab: \\.kmslab/vm is in use by process ${first.proc.pid} \\(kmslab host \\(memory store\\), since .*\\): stop it, or give another --data-dir`));
    first.proc.kill('SIGKILL');
    await first.exited;
    await using again = await startCliHost(args, { cwd: dir.path });
    expect(again.logs()).toMatch(new RegExp(`took over the lock of process ${first.proc.pid}`));
    await using c = await TestClient.connect(again.port);
    expect((await c.activate(PRODUCT, cmids[0])).count).toBe(20);
  });

  test('dns start and kmslab up refuse a data dir in use too; reset refuses while a lab holds its folder, then forgets it and says what', async () => {
    await using dir = tempDir();
    await using dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--port', '0', '--listen', '127.0.0.1'], { cwd: dir.path });
    const secondDns = await runCli(['dns', 'start', '--zone', 'lab.test', '--port', '0', '--listen', '127.0.0.1'], { cwd: dir.path });
    expectOneLine(secondDns, 'KMSLAB_DATA_DIR_LOCKED', new RegExp(`\\.kmslab/dns is in use by process ${dns.proc.pid} \\(kmslab dns start`));
    const up = ['up', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', 'off'];
    const lab = await startCliProcess(up, { cwd: dir.path });
    expectOneLine(await runCli(up, { cwd: dir.path }), 'KMSLAB_DATA_DIR_LOCKED', new RegExp(`\\.kmslab/up is in use by process ${lab.proc.pid} \\(kmslab up`));
    expectOneLine(await runCli(['reset'], { cwd: dir.path }), 'KMSLAB_DATA_DIR_LOCKED', /is in use by process \d+ .*: stop it first, then reset/);
    await lab.stop();
    await dns.stop();
    const reset = await runCli(['reset'], { cwd: dir.path });
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/^forgot \.kmslab:\n/);
    expect(reset.stdout).toMatch(/host kms1: 0 clients, 0 requests \(memory store, up\/kms1\)/);
    expect(reset.stdout).toContain('kmslab reset --redis-url URL forgets them');
    expect(existsSync(join(dir.path, '.kmslab'))).toBe(false);
  });
});

describe('kmslab reset removes only what kmslab made', () => {
  test('never the current folder, one above it, a folder kmslab did not make, or a link; a kmslab-made --data-dir goes, a user’s folder put inside it stays', async () => {
    await using dir = tempDir();
    const sub = join(dir.path, 'proj', 'sub');
    mkdirSync(join(dir.path, 'proj', 'src'), { recursive: true });
    mkdirSync(sub);
    writeFileSync(join(dir.path, 'proj', 'src', 'main.ts'), 'export {};\n');
    symlinkSync(join(dir.path, 'proj', 'src'), join(sub, 'link'));
    const cases: Array<[string[], RegExp]> = [
      [['--dir', '..'], /\.\. is this folder or one above it/],
      [['--dir', '.'], /\. is this folder or one above it/],
      [['--dir', '../src'], /\.\.\/src was not made by kmslab \(it holds no \.kmslab-folder\)/],
      [['--dir', 'link/'], /link\/ is a link/],
    ];
    for (const [args, message] of cases) expectOneLine(await runCli(['reset', ...args], { cwd: sub }), 'KMSLAB_INVALID_ARGUMENT', message);
    expect(readdirSync(join(dir.path, 'proj', 'src'))).toEqual(['main.ts']);

    // A folder kmslab made as a data dir: reset --dir removes it, and keeps a folder the user put in it.
    {
      await using host = await startCliHost(['--data-dir', 'state/host'], { cwd: sub });
      await using c = await TestClient.connect(host.port);
      await c.activate(PRODUCT);
    }
    mkdirSync(join(sub, 'state', 'mine'));
    writeFileSync(join(sub, 'state', 'mine', 'notes.txt'), 'keep me\n');
    const reset = await runCli(['reset', '--dir', 'state'], { cwd: sub });
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/host host: 1 clients, 1 requests \(memory store, host\)/);
    expect(reset.stdout).toMatch(/kept state\/mine: not made by kmslab/);
    expect(readdirSync(join(sub, 'state'))).toEqual(['mine']);
  });
});
