import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { waitFor } from '@kmslab/core';
import { stopGroup } from './support/process-group.js';
import { requireRedisServer } from '@kmslab/lab/live';
import { codeBlocks, type CodeBlock } from './support/code-blocks.js';
import { holdFixedPorts } from './support/fixed-ports.js';
import { requireTool } from './support/dns-tools.js';

/**
 * Every code block a user reads in docs/ and the package and infra READMEs
 * runs here as written (the root README's run in readme.test.ts), or in the
 * test named beside it, which holds its lines. A new block with no runner, or
 * a runner whose block is gone, fails the first test: the two cannot drift.
 * Commands run in bash with `kmslab` (and `pnpm kmslab`) being the built CLI,
 * in a folder of their own; long-running ones are started, probed on their
 * port and stopped; the fixed ports the docs write are held and checked free.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const PRELUDE = `kmslab() { "${process.execPath}" "${BIN}" "$@"; }
pnpm() { if [ "$1" = -s ]; then shift; fi; if [ "$1" = kmslab ]; then shift; kmslab "$@"; else command pnpm "$@"; fi; }
set -o pipefail
`;

const DOCS = [
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f)),
  ...readdirSync(join(ROOT, 'packages')).map((p) => join('packages', p, 'README.md')),
  ...['infra/README.md', 'infra/bind/README.md', 'infra/compose/README.md', 'infra/docker/README.md'],
].filter((f) => existsSync(join(ROOT, f)));

const running: ChildProcess[] = [];
const dirs: string[] = [];
/** Every command a test started, stopped with its whole process group (before its fixed ports are given back). */
async function stopRunning(): Promise<void> {
  for (const p of running.splice(0)) await stopGroup(p);
}
afterEach(async () => {
  await stopRunning();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder for a block's commands (its .kmslab, its files), removed after the test. */
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'kmslab-docs-'));
  dirs.push(d);
  return d;
}

/** Runs lines in bash; stdout, stderr, exit code. */
function bash(script: string, cwd: string, env: Record<string, string> = {}): { out: string; err: string; code: number } {
  const r = spawnSync('bash', ['-c', PRELUDE + script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { out: r.stdout, err: r.stderr, code: r.status ?? -1 };
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Starts a long-running line; resolves once something listens on `port`. */
async function background(line: string, port: number, cwd: string, env: Record<string, string> = {}): Promise<{ out: () => string }> {
  const p = spawn('bash', ['-c', PRELUDE + line], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.push(p);
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (out += d));
  await waitFor(async () => {
    if (p.exitCode !== null) throw new Error(`${line} exited ${p.exitCode}:\n${out}`);
    return listening(port);
  }, { timeoutMs: 30_000, everyMs: 50, timedOut: () => new Error(`${line} did not listen on ${port}:\n${out}`) });
  return { out: () => out };
}

/** Lines of a sh block that are commands (comments and blank lines dropped; a trailing comment kept: bash ignores it). */
const commands = (b: CodeBlock) => b.code.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

/** A TypeScript or JavaScript block, run as a module from inside the repository (the @kmslab packages resolve as a user's do), in `cwd`. */
function runModule(code: string, ext: 'mts' | 'mjs', cwd: string, prelude = ''): { out: string; err: string; code: number } {
  const scratch = join(ROOT, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, `docs-${process.pid}-${Date.now()}.${ext}`);
  writeFileSync(file, prelude + code);
  try {
    const r = spawnSync(process.execPath, ext === 'mts' ? [TSX, file] : [file], { cwd, encoding: 'utf8', timeout: 60_000 });
    return { out: r.stdout, err: r.stderr, code: r.status ?? -1 };
  } finally {
    rmSync(file, { force: true });
  }
}

/** A block another test runs: that file holds each of the given lines (so it cannot drift from the block). */
function coveredBy(testFile: string, ...lines: string[]) {
  return () => {
    const text = readFileSync(join(ROOT, testFile), 'utf8');
    for (const l of lines) expect(text, `${testFile} no longer holds: ${l}`).toContain(l);
  };
}

interface Runner {
  file: string;
  /** The block's first line, as written (what identifies it). */
  first: string;
  run: (b: CodeBlock) => void | Promise<void>;
}

const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;

const RUNNERS: Runner[] = [
  {
    // Benchmarks run for minutes to hours, never in the suite: each command names a script that exists.
    file: 'docs/capacity.md', first: 'pnpm bench:scale        # activations/s per Redis topology + the fleet model\'s projection',
    run: (b) => {
      for (const l of commands(b)) expect(Object.keys(scripts), l).toContain(/^pnpm (\S+)/.exec(l)![1]);
    },
  },
  {
    file: 'docs/capacity.md', first: 'taskset -c 1 pnpm soak -- --minutes 120      # the soak, its hosts and Redis inherit the affinity',
    run: (b) => {
      requireTool('taskset');
      for (const l of commands(b)) expect(Object.keys(scripts), l).toContain(/pnpm (\S+)/.exec(l)![1]);
      expect(spawnSync('taskset', ['-c', '0', 'true']).status).toBe(0);
    },
  },
  {
    file: 'docs/dns-faults.md', first: 'SRV=_vlmcs._tcp.lab.test',
    run: async (b) => {
      requireTool('dig');
      await using _ports = await holdFixedPorts([5353], 'docs/dns-faults.md', stopRunning);
      const [assign, start, digLine] = commands(b);
      const cwd = folder();
      const env = { SRV: /^SRV=(\S+)/.exec(assign!)![1]! };
      await background(start!, 5353, cwd, env);
      const statuses = [1, 2, 3, 4].map(() => bash(digLine!, cwd, env).out.trim());
      expect(statuses.map((s) => /status: (\w+)/.exec(s)?.[1])).toEqual(['SERVFAIL', 'SERVFAIL', 'SERVFAIL', 'NXDOMAIN']);
    },
  },
  {
    file: 'docs/discover-check.md', first: "cat > lab.test.zone <<'EOF'",
    run: (b) => {
      const r = bash(b.code, folder());
      expect(r.code, r.out + r.err).toBe(2);
      expect(r.out).toContain('Zone file, offline: lab.test');
      for (const id of ['no-preference', 'target-cname', 'port-not-1688', 'target-no-address']) expect(r.out).toMatch(new RegExp(`^  (error|warning) +${id}  `, 'm'));
      expect(r.out).toContain('          seen:   kms.lab.test is an alias of kms1.lab.test');
    },
  },
  {
    file: 'docs/discover-check.md', first: "kmslab dns start --port 5353 --zone-file lab.test.zone --fault '_vlmcs._tcp.lab.test/SRV=nxdomain,case=exact'",
    run: async (b) => {
      await using _ports = await holdFixedPorts([5353], 'docs/discover-check.md', stopRunning);
      const cwd = folder();
      // The zone file of the block before, in the same folder, as a reader following the page has it.
      const zoneBlock = codeBlocks(join(ROOT, 'docs/discover-check.md')).find((x) => x.code.startsWith("cat > lab.test.zone <<'EOF'"))!;
      bash(zoneBlock.code.split('\nkmslab ')[0]!, cwd);
      const [start, ...rest] = commands(b);
      await background(start!, 5353, cwd);
      const r = bash(rest.join('\n'), cwd);
      expect(r.out).toMatch(/^  error +case-differs  _VLMCS\._TCP\.lab\.test \/ _vlmcs\._tcp\.lab\.test$/m);
      expect(r.out).toContain('_vlmcs._tcp.lab.test → NXDOMAIN');
      expect(r.out.trim().split('\n').at(-1)).toBe('exit code 2');
    },
  },
  {
    file: 'docs/secure-zones.md', first: `S1=$(node -p 'crypto.randomBytes(32).toString("base64")'); S2=$(node -p 'crypto.randomBytes(32).toString("base64")')`,
    run: async (b) => {
      for (const tool of ['nsupdate', 'dig']) requireTool(tool);
      await using _ports = await holdFixedPorts([5353, 8054], 'docs/secure-zones.md', stopRunning);
      const [secrets, start, ...rest] = commands(b);
      const cwd = folder();
      // The secrets the first line makes, made once for every line after it.
      const env = Object.fromEntries(bash(`${secrets}\necho "$S1 $S2"`, cwd).out.trim().split(' ').map((v, i) => [`S${i + 1}`, v]));
      await background(start!, 8054, cwd, env);
      const [first, second, grant, third, digLine] = rest.map((l) => bash(l, cwd, env));
      expect(first!.code, first!.err).toBe(0);
      expect(second!.out + second!.err).toMatch(/update failed: REFUSED/);
      expect(grant!.out).toContain('grant on _vlmcs._tcp.lab.test: kms-hosts');
      expect(third!.code, third!.out + third!.err).toBe(0);
      expect(digLine!.out.trim().split('\n').sort()).toEqual(['0 0 1688 kms1.lab.test.', '0 0 1688 kms2.lab.test.']);
    },
  },
  {
    file: 'docs/secondaries.md', first: 'kmslab dns start --port 5353 --zone lab.test --allow-transfer 127.0.0.0/8 --notify 127.0.0.1:5354',
    run: async (b) => {
      requireTool('dig');
      await using _ports = await holdFixedPorts([5353, 5354], 'docs/secondaries.md', stopRunning);
      const [start, digLine] = commands(b);
      const cwd = folder();
      await background(start!, 5353, cwd);
      const r = bash(digLine!, cwd);
      const records = r.out.trim().split('\n').filter((l) => l && !l.startsWith(';'));
      expect(records[0]).toMatch(/^lab\.test\.\s+\d+\s+IN\s+SOA\s/);
      expect(records.at(-1)).toMatch(/^lab\.test\.\s+\d+\s+IN\s+SOA\s/);
    },
  },
  {
    file: 'docs/products.md', first: 'kmslab key-groups                  # each host key group, its lab key, what it activates; the Office packs',
    run: (b) => {
      const cwd = folder();
      const [groups, products, lab] = commands(b).map((l) => bash(l, cwd));
      expect(groups!.out).toMatch(/^windows-server-2025 \(default\) +KMSLAB-HOST-WS2025 +windows-server-2025, windows-server-2022, /m);
      expect(groups!.out).toMatch(/^pack office-ltsc-2024 +KMSLAB-PACK-OFFICE2024 +family office2024$/m);
      expect(products!.out).toMatch(/^windows-11-enterprise-ltsc-2024 +windows +client +25 +windows-server-2025 +Windows 11 Enterprise LTSC 2024$/m);
      expect(products!.out).toMatch(/^visio-ltsc-2024-professional +office2024 +office +5 +pack office-ltsc-2024 /m);
      expect(lab!.code, lab!.out + lab!.err).toBe(0);
      expect(lab!.out).toContain('All checks passed.');
      expect(readFileSync(join(cwd, 'current-fleet.html'), 'utf8')).toContain('current-fleet');
    },
  },
  { file: 'docs/testing.md', first: 'npm install -D @kmslab/testing          # Node 20 or newer; with vitest or jest, or plain Node', run: coveredBy('test/consumer.test.ts', "const PACKAGES = ['core', 'dns-wire', 'server-kit', 'dns', 'host', 'client', 'lab', 'dashboard', 'testing', 'cli', 'testcontainers'];", "'install', '--engine-strict'") },
  {
    file: 'docs/testing.md', first: '// kmslab.test.ts — a lab per test file',
    run: (b) => {
      // With the global-setup block too: both as a user's vitest project would hold them (its config as the text says).
      const setup = codeBlocks(join(ROOT, 'docs/testing.md')).find((x) => x.code.startsWith("import { vitestGlobalSetup }"))!;
      const project = join(ROOT, 'scratch', `docs-vitest-${process.pid}`);
      mkdirSync(project, { recursive: true });
      try {
        // The user's service (the block calls it "your code"): a lookup of the SRV records at the lab DNS.
        const myService = "import { TYPE, query } from '@kmslab/dns-wire';\nconst myService = { lookupKms: async ({ dns, domain }: { dns: { host: string; port: number }; domain: string }) => { const { answer } = await query(dns, `_vlmcs._tcp.${domain}`, TYPE.SRV); const srv = answer.answers.map((r) => r.data as { priority: number; port: number }).sort((a, c) => a.priority - c.priority); return srv[0]!; } };\n";
        writeFileSync(join(project, 'kmslab.test.ts'), myService + b.code);
        writeFileSync(join(project, 'kmslab-setup.ts'), setup.code);
        writeFileSync(join(project, 'global.test.ts'), "import { expect, inject, test } from 'vitest';\ntest('the global lab', () => {\n  expect(process.env.KMSLAB_DNS).toMatch(/^127\\.0\\.0\\.1:\\d+$/);\n  expect(inject('kmslab' as never)).toMatchObject({ KMSLAB_DOMAIN: 'lab.test' });\n});\n");
        writeFileSync(join(project, 'vitest.config.ts'), "export default { test: { globalSetup: ['./kmslab-setup.ts'] } };\n");
        const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', project], { cwd: project, encoding: 'utf8', timeout: 120_000, env: { ...process.env, CI: 'true' } });
        expect(r.status, `${r.stdout}${r.stderr}`.slice(-3000)).toBe(0);
        expect(r.stdout).toMatch(/2 passed/);
      } finally {
        rmSync(project, { recursive: true, force: true });
      }
    },
  },
  { file: 'docs/testing.md', first: "import { vitestGlobalSetup } from '@kmslab/testing';", run: () => {} /* run with the block before */ },
  {
    file: 'docs/testing.md', first: "// jest.config.mjs: export default { globalSetup: './kmslab-setup.mjs', globalTeardown: './kmslab-teardown.mjs' };",
    run: coveredBy('test/consumer/kmslab-jest-setup.mjs', "import { jestGlobalSetup } from '@kmslab/testing';", "export default jestGlobalSetup({ hosts: [{ name: 'kms1' }] });"),
  },
  {
    file: 'docs/testing.md', first: "import { startLab } from '@kmslab/testing';",
    run: (b) => {
      const r = runModule(b.code, 'mjs', folder());
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/count: 1,[\s\S]*discoveredBy: 'dns'/);
    },
  },
  {
    file: 'docs/testing.md', first: "import { spawnSync } from 'node:child_process';",
    run: (b) => {
      requireTool('dig');
      const r = runModule(b.code, 'mts', folder());
      expect(r.code, r.err).toBe(0);
      // dig, run with spawnSync while the lab's worker answered: the SRV record of kms1.
      expect(r.out).toMatch(/^0 0 \d+ kms1\.lab\.test\.$/m);
    },
  },
  { file: 'docs/testing.md', first: '// every test file', run: coveredBy('test/containers-reuse.test.ts', "startKmsLab({ reuse:", 'removeReusedLab(name)') },
  {
    file: 'packages/client/README.md', first: 'kmslab client activate --product windows-10-pro --dns 127.0.0.1:5353 --domain lab.test --json',
    run: async (b) => {
      requireTool('dig');
      await using _ports = await holdFixedPorts([5353, 1688, 9688], 'packages/client/README.md', stopRunning);
      const cwd = folder();
      const secret = 'Y2xpZW50LXJlYWRtZS10ZXN0LXNlY3JldC0zMmJ5dGVz';
      await background(`kmslab dns start --zone lab.test --port 5353 --listen 127.0.0.1 --tsig-key kms1:hmac-sha256:${secret}:host=kms1.lab.test`, 5353, cwd);
      await background(`kmslab host start --listen 127.0.0.1 --publish --dns 127.0.0.1:5353 --tsig-key kms1:hmac-sha256:${secret} --fqdn kms1.lab.test --advertise-address 127.0.0.1`, 1688, cwd);
      await waitFor(() => bash('dig @127.0.0.1 -p 5353 +short _vlmcs._tcp.lab.test SRV', cwd).out.includes('kms1'), { timeoutMs: 10_000, everyMs: 100, timedOut: () => new Error('kms1 did not publish') });
      const lines = commands(b);
      const runLine = lines.find((l) => l.startsWith('kmslab client run'))!;
      for (const l of lines.filter((x) => x !== runLine)) {
        const r = bash(l, cwd);
        expect(r.code === 0 || (l.includes('activate') && r.code === 2), `${l}\n${r.err}`).toBe(true);
        if (l.includes('activate')) expect(JSON.parse(r.out)).toMatchObject({ licensed: false, count: 1, errorCode: '0xC004F038', host: 'kms1.lab.test:1688', discoveredBy: 'dns' });
        if (l.startsWith('kmslab discover')) expect(r.out).toContain('Result: a usable kmslab host was found.');
      }
      const agent = spawn('bash', ['-c', PRELUDE + runLine], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      running.push(agent);
      let out = '';
      agent.stdout!.on('data', (d) => (out += d));
      await expect.poll(() => out, { timeout: 15_000 }).toMatch(/"host":"kms1\.lab\.test:1688"/);
    },
  },
  {
    file: 'packages/core/README.md', first: "import { Catalog, KmsConnection, VirtualClock } from '@kmslab/core';",
    run: async (b) => {
      await using _ports = await holdFixedPorts([1688, 9688], 'packages/core/README.md', stopRunning);
      const cwd = folder();
      await background('kmslab host start --listen 127.0.0.1', 1688, cwd);
      const r = runModule(b.code, 'mts', cwd);
      expect(r.code, r.err).toBe(0);
    },
  },
  {
    file: 'packages/dashboard/README.md', first: 'kmslab dashboard --admin 127.0.0.1:9688 --admin 127.0.0.1:9689 --dns-admin 127.0.0.1:8054   # http://127.0.0.1:9690',
    run: async (b) => {
      await using _ports = await holdFixedPorts([9690], 'packages/dashboard/README.md', stopRunning);
      await background(commands(b)[0]!, 9690, folder());
      const page = await fetch('http://127.0.0.1:9690/');
      expect([page.status, (await page.text()).includes('<title>kmslab dashboard</title>')]).toEqual([200, true]);
    },
  },
  {
    file: 'packages/dashboard/README.md', first: "import { DashboardServer } from '@kmslab/dashboard';",
    run: (b) => {
      const r = runModule(b.code, 'mts', folder());
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/m);
    },
  },
  {
    file: 'packages/dns-wire/README.md', first: "import { query, sendUpdate, parseTsigKey, emptyMessage, TYPE, CLASS, OPCODE } from '@kmslab/dns-wire';",
    run: async (b) => {
      requireTool('dig');
      await using _ports = await holdFixedPorts([5353], 'packages/dns-wire/README.md', stopRunning);
      const cwd = folder();
      // The block's key is a placeholder (BASE64): the server here has that key.
      await background('kmslab dns start --zone lab.test --port 5353 --listen 127.0.0.1 --tsig-key kms1:hmac-sha256:BASE64:host=kms1.lab.test', 5353, cwd);
      const r = runModule(b.code, 'mts', cwd);
      expect(r.code, r.err).toBe(0);
      expect(bash('dig @127.0.0.1 -p 5353 +short kms1.lab.test A', cwd).out.trim()).toBe('192.0.2.10');
    },
  },
  {
    file: 'packages/dns/README.md', first: 'kmslab dns start --zone lab.test --port 5353 --tsig-key kms1:hmac-sha256:$SECRET:host=kms1.lab.test --tsig-key xfr:hmac-sha256:$SECRET:transfer',
    run: async (b) => {
      requireTool('nsupdate');
      await using _ports = await holdFixedPorts([5353], 'packages/dns/README.md', stopRunning);
      const cwd = folder();
      const env = { SECRET: 'ZG5zLXJlYWRtZS10ZXN0LXNlY3JldC0zMi1ieXRlcyE=' };
      const [start, ...rest] = b.code.split('\n');
      await background(start!, 5353, cwd, env);
      const r = bash(rest.join('\n'), cwd, env);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/_vlmcs\._tcp\.lab\.test\.\s+600\s+IN\s+SRV\s+0 0 1688 kms1\.lab\.test\./);
      expect(r.out).toMatch(/^_vlmcs\._tcp\.lab\.test\.\s+600\s+SRV\s+0 0 1688 kms1\.lab\.test\.$/m);
    },
  },
  {
    file: 'packages/host/README.md', first: "import { KmsHost, MemoryStore, RedisStore } from '@kmslab/host';",
    run: async (b) => {
      await using _ports = await holdFixedPorts([9688], 'packages/host/README.md', stopRunning);
      const r = runModule(b.code, 'mts', folder());
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^\d+ http:\/\/127\.0\.0\.1:9688$/m);
    },
  },
  {
    file: 'packages/lab/README.md', first: 'kmslab lab list                                        # built-in scenarios',
    run: async (b) => {
      requireRedisServer();
      await using _ports = await holdFixedPorts([8053, 8054, 1688, 9688], 'packages/lab/README.md', stopRunning);
      const lines = commands(b);
      const up = lines.find((l) => l.startsWith('kmslab up'))!;
      // From the repository root, as the scenario line says; what they write is removed after.
      try {
        for (const l of lines.filter((x) => x !== up)) {
          const r = bash(l, ROOT);
          expect(r.code, `${l}\n${r.out.slice(-500)}${r.err}`).toBe(0);
        }
        expect(readFileSync(join(ROOT, 'out.html'), 'utf8')).toContain('<svg');
        expect(readFileSync(join(ROOT, 'fleet.html'), 'utf8')).toContain('<svg');
      } finally {
        for (const f of ['out.html', 'out.json', 'fleet.html', 'fleet.json']) rmSync(join(ROOT, f), { force: true });
      }
      const lab = await background(up, 8053, folder());
      await expect.poll(() => lab.out(), { timeout: 10_000 }).toContain('Clients   30 simulated');
    },
  },
  {
    file: 'packages/lab/README.md', first: "import { Simulation } from '@kmslab/lab';",
    run: (b) => {
      const r = runModule(b.code, 'mts', folder());
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/win7-01/);
    },
  },
  { file: 'packages/testcontainers/README.md', first: 'npm install -D @kmslab/testcontainers testcontainers@11   # Node 20 (testcontainers 12 needs Node 22.22 or newer)', run: coveredBy('test/consumer.test.ts', "...(!onNode22 && { testcontainers: '^11.14.0' })") },
  { file: 'packages/testcontainers/README.md', first: "import { afterAll, beforeAll, expect, test } from 'vitest';", run: coveredBy('test/consumer.test.ts', "codeBlock(join(ROOT, 'packages', 'testcontainers', 'README.md'), 'ts')") },
  { file: 'packages/testing/README.md', first: 'npm install -D @kmslab/testing', run: coveredBy('test/consumer.test.ts', "'install', '--engine-strict'") },
  {
    file: 'packages/testing/README.md', first: "import { startLab } from '@kmslab/testing';",
    run: (b) => {
      const r = runModule(b.code, 'mts', folder());
      expect(r.code, r.err).toBe(0);
    },
  },
  // A recipe for a machine's own BIND (/etc/bind, systemctl): never run here; the test runs its two files in a named of its own.
  { file: 'infra/bind/README.md', first: 'cp named.conf.kmslab /etc/bind/ && echo \'include "/etc/bind/named.conf.kmslab";\' >> /etc/bind/named.conf.local', run: coveredBy('test/bind-example.test.ts', "new URL('../infra/bind/named.conf.kmslab', import.meta.url)", "new URL('../infra/bind/lab.test.zone', import.meta.url)") },
  { file: 'infra/compose/README.md', first: 'export KMSLAB_ADMIN_TOKEN=$(node -p \'crypto.randomBytes(24).toString("base64url")\')   # the hosts\' admin token', run: coveredBy('test/compose.test.ts', "'-f', 'infra/compose/docker-compose.yml'", "compose('port', 'kms1', '9688')", "compose('port', 'dashboard', '9690')", "compose('stop', '--timeout', '5', 'kms1')") },
  { file: 'infra/compose/README.md', first: 'export KMSLAB_IMAGE=kmslab/kmslab:latest REDIS_IMAGE=kmslab/redis:7 NODE_IMAGE=kmslab/node:20', run: coveredBy('test/compose.test.ts', "compose('up', '-d', '--no-build')") },
  { file: 'infra/compose/README.md', first: 'docker-compose -f infra/compose/docker-compose.yml down -v --timeout 5', run: coveredBy('test/compose.test.ts', "compose('down', '-v', '--timeout', '5')") },
];

const blocks = DOCS.flatMap((file) => codeBlocks(join(ROOT, file)).map((b) => ({ file, block: b, first: b.code.split('\n')[0]! })));

describe('every code block in docs/ and the package and infra READMEs works as written', () => {
  test('each block has a runner, and each runner its block (they cannot drift apart)', () => {
    const key = (file: string, first: string) => `${file}: ${first}`;
    expect(blocks.map((b) => key(b.file, b.first)).sort()).toEqual(RUNNERS.map((r) => key(r.file, r.first)).sort());
  });

  for (const r of RUNNERS) {
    test(`${r.file}: ${r.first.slice(0, 70)}`, async () => {
      const found = blocks.find((b) => b.file === r.file && b.first === r.first);
      expect(found, `${r.file} has no block starting "${r.first}"`).toBeDefined();
      await r.run(found!.block);
    }, 180_000);
  }
});
