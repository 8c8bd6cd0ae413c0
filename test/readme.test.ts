import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { requireRedisServer } from '@kmslab/lab/live';
import { waitFor } from '@kmslab/core';
import { requireTool } from './support/dns-tools.js';
import { stopGroup } from './support/process-group.js';
import { holdFixedPorts } from './support/fixed-ports.js';

/** The fixed ports the README's commands use: held (docs.test.ts uses them too) and free before a section runs, or one line saying what holds them. */
const free = (...ports: number[]) => holdFixedPorts(ports, "the README's commands", stopAll);

/**
 * The README's tour, command for command as it is written (each line is
 * checked to be in the README, so the two cannot drift apart), run from the
 * repository root as a reader would: long-running commands are started,
 * probed and stopped; `pnpm kmslab reset` between sections, as the README says.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const env: Record<string, string> = {};
const running: ChildProcess[] = [];

/** `pnpm` as the suite was started with (npx -y pnpm@10 test), else from PATH. */
const PNPM = process.env.npm_execpath?.includes('pnpm') ? `pnpm() { "${process.execPath}" "${process.env.npm_execpath}" "$@"; }; ` : '';

function line(text: string): string {
  expect(README, `README.md no longer holds: ${text}`).toContain(text);
  return text;
}

/** Runs README lines in bash (with the variables set so far); stdout, stderr, exit code. */
function run(...lines: string[]): { out: string; err: string; code: number } {
  const r = spawnSync('bash', ['-c', PNPM + lines.map(line).join('\n')], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { out: r.stdout, err: r.stderr, code: r.status ?? -1 };
}

/** Starts a long-running README line and waits until it listens on `port`. */
async function start(text: string, port: number): Promise<ChildProcess> {
  const p = spawn('bash', ['-c', PNPM + line(text)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (out += d));
  running.push(p);
  await waitFor(
    async () => {
      if (p.exitCode !== null) throw new Error(`${text} exited:\n${out}`);
      return listening(port);
    },
    { timeoutMs: 30_000, everyMs: 100, timedOut: () => new Error(`${text} did not listen on ${port} within 30 s:\n${out}`) },
  );
  return p;
}

/** Resolves with everything `p` printed once it matches `pattern`; rejects when `p` exits first or `timeoutMs` passes. */
function printed(p: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const done = (err: Error | null) => {
      clearTimeout(timer);
      p.stdout!.off('data', onData);
      p.stderr!.off('data', onData);
      p.off('exit', onExit);
      if (err) reject(err);
      else resolve(out);
    };
    const onData = (d: Buffer) => {
      out += d;
      if (pattern.test(out)) done(null);
    };
    const onExit = (code: number | null) => done(new Error(`${what} exited with ${code}:\n${out.slice(-3000)}`));
    const timer = setTimeout(() => done(new Error(`${what} did not print ${pattern} within ${timeoutMs / 1000} s:\n${out.slice(-3000)}`)), timeoutMs);
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    p.once('exit', onExit);
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Each started command's whole process group stopped (they save state on the way out). */
async function stopAll(): Promise<void> {
  for (const p of running.splice(0)) await stopGroup(p);
}

afterAll(async () => {
  await stopAll();
  run('pnpm kmslab reset');
});

const count = (out: string) => Number(/count (\d+)/.exec(out)?.[1] ?? NaN);

describe("the README's tour, as written", () => {
  test("the quick start from a fresh clone: the README's first command installs and brings the lab up", async () => {
    const first = README.split('\n').find((l) => l.startsWith('npx -y pnpm@10 install && npx -y pnpm@10 start'))!.replace(/\s+#.*$/, '');
    const clone = mkdtempSync(join(tmpdir(), 'kmslab-readme-'));
    try {
      execFileSync('git', ['clone', '-q', ROOT, join(clone, 'kmslab')]);
      await using _ports = await free(8053, 8054, 1688, 9688);
      const p = spawn('bash', ['-c', first], { cwd: join(clone, 'kmslab'), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      running.push(p);
      // Installing and building from a fresh clone takes most of the 4 minutes allowed.
      const out = await printed(p, /^(?=[\s\S]*lab "lab.test" is up)(?=[\s\S]*DNS +127\.0\.0\.1:8053)/, 240_000, first);
      // What the lab prints to try next (its DNS on 8053), and that it answers.
      expect(out).toMatch(/DNS +127\.0\.0\.1:8053/);
      expect(spawnSync('dig', ['@127.0.0.1', '-p', '8053', '+short', '_vlmcs._tcp.lab.test', 'SRV'], { encoding: 'utf8' }).stdout).toMatch(/^0 0 1688 kms1\.lab\.test\.$/m);
      await stopAll();
    } finally {
      await stopAll();
      execFileSync('rm', ['-rf', clone]);
    }
  }, 300_000);

  test('the walkthrough: counts 1, 2, 3, 13, the server licensed at 13, Windows 7 at 14 needs 11 more; host status; --json', async () => {
    requireTool('dig');
    await using _ports = await free(1688, 9688);
    expect(run('pnpm kmslab reset').code).toBe(0);
    await start('pnpm kmslab host start --key-group windows-server-2008-r2-b', 1688);
    expect(count(run('pnpm kmslab activate --host localhost --product windows-7-professional').out)).toBe(1);
    expect(count(run('pnpm kmslab activate --host localhost --product windows-7-enterprise').out)).toBe(2);
    env.SERVER = spawnSync('bash', ['-c', line("SERVER=$(node -p 'crypto.randomUUID()')") + '; echo $SERVER'], { encoding: 'utf8' }).stdout.trim();
    expect(count(run('pnpm kmslab activate --host localhost --product windows-server-2008-r2-enterprise --cmid $SERVER').out)).toBe(3);
    const ten = run('for i in $(seq 10); do pnpm -s kmslab activate --host localhost --product windows-7-professional; done');
    expect(count(ten.out.trim().split('\n').at(-1)!)).toBe(13);
    const renewed = run('pnpm kmslab activate --host localhost --product windows-server-2008-r2-enterprise --cmid $SERVER --renew');
    expect(renewed.out).toMatch(/licensed by .* \(count 13, threshold 5\)/);
    expect(run('pnpm kmslab activate --host localhost --product windows-7-professional').out).toMatch(/count 14 of 25/);
    expect(run('pnpm kmslab host status').out).toContain('Current count: 14');
    const json = JSON.parse(run('pnpm kmslab activate --host localhost --product windows-7-professional --json').out);
    expect(json).toMatchObject({ count: 15, threshold: 25, licensed: false, errorCode: '0xC004F038' });
    await stopAll();
  });

  test('tab completion: the alias and the bash script as the README gives them complete kmslab commands', () => {
    const complete = `shopt -s expand_aliases\n${line(`alias kmslab='pnpm -s kmslab'; eval "$(kmslab completion bash)"`)}\nCOMP_WORDS=(kmslab ho); COMP_CWORD=1; _kmslab; echo "\${COMPREPLY[*]}"; complete -p kmslab`;
    const r = spawnSync('bash', ['-c', PNPM + complete], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout, r.stderr).toMatch(/^host\ncomplete .*-F _kmslab kmslab\n$/);
  });

  test('Redis instead of the embedded store: two processes with one host id share one count', async () => {
    requireRedisServer();
    await using _ports = await free(6379, 1688, 1689, 9688, 9689);
    const redis = spawn('redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore', detached: true });
    running.push(redis);
    await waitFor(() => listening(6379), { timeoutMs: 5000, everyMs: 50, timedOut: () => new Error('the redis-server the test started does not listen on 6379') });
    expect(run('pnpm kmslab reset').code).toBe(0);
    await start('pnpm kmslab host start --store redis --redis-url redis://127.0.0.1:6379 --host-id kms-a --port 1688 --admin 127.0.0.1:9688', 1688);
    await start('pnpm kmslab host start --store redis --redis-url redis://127.0.0.1:6379 --host-id kms-a --port 1689 --admin 127.0.0.1:9689', 1689);
    for (const port of [1688, 1689]) spawnSync('bash', ['-c', `${PNPM}pnpm -s kmslab activate --host localhost:${port} --product windows-10-pro`], { cwd: ROOT });
    const status = JSON.parse(spawnSync('bash', ['-c', `${PNPM}pnpm -s kmslab host status --admin 127.0.0.1:9689 --json`], { cwd: ROOT, encoding: 'utf8' }).stdout);
    expect(status.families.windows.currentCount).toBe(2);
    // The counts stay in Redis, not in .kmslab; the README's reset line forgets them.
    expect(run('pnpm kmslab reset --redis-url redis://127.0.0.1:6379').out).toMatch(/forgot 2 Redis keys at redis:\/\/127\.0\.0\.1:6379 \(hosts kms-a\)/);
    await stopAll();
  });

  test('DNS for discovery: kmslab dns, nsupdate with a TSIG key, dig; then a host that publishes itself, a client that finds it by DNS, discover', async () => {
    requireTool('nsupdate');
    await using _ports = await free(5353, 8054, 1688, 9688, 9690);
    expect(run('pnpm kmslab reset').code).toBe(0);
    env.SECRET = spawnSync('bash', ['-c', line(`SECRET=$(node -p 'crypto.randomBytes(32).toString("base64")')`) + '; echo $SECRET'], { encoding: 'utf8' }).stdout.trim();
    await start('pnpm kmslab dns start --port 5353 --tsig-key kms1:hmac-sha256:$SECRET:host=kms1.lab.test --admin 127.0.0.1:8054', 5353);
    const update = run("printf 'server 127.0.0.1 5353\\nupdate add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 kms1.lab.test.\\nupdate add kms1.lab.test 600 IN A 127.0.0.1\\nsend\\n' | nsupdate -y hmac-sha256:kms1:$SECRET");
    expect(update.code, update.err).toBe(0);
    expect(run('dig @127.0.0.1 -p 5353 _vlmcs._tcp.lab.test SRV').out).toMatch(/_vlmcs\._tcp\.lab\.test\.\s+600\s+IN\s+SRV\s+0 0 1688 kms1\.lab\.test\./);
    await start('pnpm kmslab host start --port 1688 --publish --dns 127.0.0.1:5353 --tsig-key kms1:hmac-sha256:$SECRET --fqdn kms1.lab.test --advertise-address 127.0.0.1', 1688);
    const client = JSON.parse(run('pnpm kmslab client activate --product windows-10-pro --dns 127.0.0.1:5353 --domain lab.test --json').out);
    expect(client).toMatchObject({ discoveredBy: 'dns', host: 'kms1.lab.test:1688', count: 1 });
    expect(run('pnpm kmslab discover --dns 127.0.0.1:5353 --domain lab.test').out).toContain('Result: a usable kmslab host was found.');
    await start('pnpm kmslab dashboard --admin 127.0.0.1:9688 --dns-admin 127.0.0.1:8054', 9690);
    const page = await fetch('http://127.0.0.1:9690/');
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<title>kmslab dashboard<\/title>/);
    const state = (await (await fetch('http://127.0.0.1:9690/api/state')).json()) as { hosts: Array<{ status: { families: { windows: { currentCount: number } } } }>; dns: { zones: Array<{ srv: Array<{ target: string }> }> } };
    expect(state.hosts[0]!.status.families.windows.currentCount).toBe(1);
    expect(state.dns.zones[0]!.srv.map((r) => r.target)).toEqual(['kms1.lab.test']);
    await stopAll();
  });

  test('the in-process fixture: the README\'s TypeScript example runs as written (tsx, from the repository root)', () => {
    const code = /```ts\n(import \{ startLab \} from '@kmslab\/testing';[\s\S]*?)```/.exec(README)?.[1];
    expect(code, 'README.md no longer holds the @kmslab/testing example').toBeDefined();
    const file = `${ROOT}/scratch/readme-fixture.mts`;
    mkdirSync(`${ROOT}/scratch`, { recursive: true });
    writeFileSync(file, code!);
    try {
      const r = spawnSync(process.execPath, [`${ROOT}/node_modules/tsx/dist/cli.mjs`, file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/host: '127\.0\.0\.1', port: \d+/);
      expect(r.stdout).toMatch(/count: 1,[\s\S]*discoveredBy: 'dns'/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  test('the lab: the walkthrough narrated, the Redis outage live, a scenario file with a report, the fleet model', () => {
    expect(run('pnpm kmslab lab run reference-walkthrough').out).toContain('All checks passed.');
    expect(run('pnpm kmslab lab run redis-outage --live').code).toBe(0);
    const report = run('pnpm kmslab lab run packages/lab/scenarios/branch-offices.yaml --report report.html');
    expect(report.code, report.err).toBe(0);
    expect(readFileSync(`${ROOT}/report.html`, 'utf8')).toContain('<svg');
    const fleet = run('pnpm kmslab lab fleet --clients 100000 --report fleet.html');
    expect(fleet.code, fleet.err).toBe(0);
    expect(readFileSync(`${ROOT}/fleet.html`, 'utf8')).toContain('<svg');
  }, 240_000);
});
