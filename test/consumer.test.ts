import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireDockerAndImage } from './support/docker.js';
import { codeBlock } from './support/code-blocks.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = ['core', 'dns-wire', 'server-kit', 'dns', 'host', 'client', 'lab', 'dashboard', 'testing', 'cli', 'testcontainers'];
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const onNode22 = (() => {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  return major > 22 || (major === 22 && minor >= 22);
})();

let dir: string;
let packs: string;
let project: string;

/** pnpm as the suite was started with (npx -y pnpm@10 test), else from PATH. */
function pnpm(args: string[], cwd: string): string {
  const viaExecpath = process.env.npm_execpath?.includes('pnpm');
  const [cmd, ...pre] = viaExecpath ? [process.execPath, process.env.npm_execpath!] : ['pnpm'];
  return execFileSync(cmd!, [...pre, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The product as a user gets it: every package packed (pnpm pack: workspace
 * versions filled in, publishConfig applied), then a fresh project outside
 * the workspace installed from those tarballs and the registry with npm.
 */
describe('kmslab as users install it (packed tarballs, a fresh npm project)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kmslab-consumer-'));
    packs = join(dir, 'packs');
    project = join(dir, 'project');
    mkdirSync(packs);
    mkdirSync(project);
    for (const p of PACKAGES) pnpm(['pack', '--pack-destination', packs], join(ROOT, 'packages', p));
    const tarball = (p: string) => `file:${join(packs, readdirSync(packs).find((f) => f.startsWith(`kmslab-${p}-`))!)}`;
    const kmslab = Object.fromEntries(PACKAGES.map((p) => [`@kmslab/${p}`, tarball(p)]));
    writeFileSync(join(project, 'package.json'), JSON.stringify({
      name: 'kmslab-consumer', private: true, type: 'module',
      // Each package's own @kmslab dependencies resolve to these tarballs too (nothing is published).
      // As packages/testcontainers/README.md says: on Node 20 testcontainers 11 by name; on Node 22 npm adds the peer (12).
      dependencies: { ...kmslab, ...(!onNode22 && { testcontainers: '^11.14.0' }) },
      devDependencies: { '@types/node': '^20.19.0', vitest: '^4.1.0', jest: '^30.0.0' },
      overrides: kmslab,
    }, null, 2));
    // --engine-strict: every package in the tree says it runs on this Node, and does (package engines are true).
    const install = spawnSync('npm', ['install', '--engine-strict', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, encoding: 'utf8', timeout: 240_000 });
    if (install.status !== 0) throw new Error(`npm install from the tarballs failed (the npm registry must be reachable):\n${install.stdout}${install.stderr}`);
    cpSync(join(ROOT, 'test', 'consumer'), project, { recursive: true });
    // The @kmslab/testcontainers README's example is the project's container test, as written.
    writeFileSync(join(project, 'lab.test.ts'), codeBlock(join(ROOT, 'packages', 'testcontainers', 'README.md'), 'ts'));
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('each tarball holds package.json, README, LICENSE and dist/ only (the CLI its bin/ too); sizes printed', () => {
    const sizes: string[] = [];
    for (const file of readdirSync(packs)) {
      const entries = execFileSync('tar', ['tzf', join(packs, file)], { encoding: 'utf8' }).trim().split('\n');
      for (const e of entries) expect(e, file).toMatch(file.startsWith('kmslab-cli-') ? /^package\/(package\.json|README\.md|LICENSE|dist\/.+|bin\/kmslab\.js)$/ : /^package\/(package\.json|README\.md|LICENSE|dist\/.+)$/);
      expect(entries.some((e) => e.endsWith('.tsbuildinfo')), file).toBe(false);
      expect(entries.some((e) => e.endsWith('.test.js') || e.includes('/src/'))).toBe(false);
      expect(entries).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/dist/index.js', 'package/dist/index.d.ts']));
      sizes.push(`${file} ${(statSync(join(packs, file)).size / 1024).toFixed(1)} KiB`);
    }
    console.log(`tarballs: ${sizes.join(', ')}`);
    expect(sizes).toHaveLength(PACKAGES.length);
  });

  test('plain node imports every package and uses each: the catalog, a fault rule, a scenario, a store; the installed kmslab runs DNS and a publishing host; the client discovers it by SRV and activates', () => {
    const r = spawnSync(process.execPath, ['smoke.mjs'], { cwd: project, encoding: 'utf8', timeout: 60_000, env: { ...process.env, KMSLAB_CONSUMER_DIR: project } });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({ rule: 'servfail', scenario: 1, store: 'memory', image: 'string', freePort: 'number', activation: { discoveredBy: 'dns', count: 1, host: expect.stringMatching(/^kms1\.lab\.test:\d+$/) }, asked: { count: 2, discoveredBy: 'manual' } });
    expect(out.products).toBeGreaterThan(30);
    const version = spawnSync(join(project, 'node_modules', '.bin', 'kmslab'), ['--version'], { encoding: 'utf8' });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test.each([
    ['tsc --init defaults', null],
    ['strict, exactOptionalPropertyTypes, nodenext', { strict: true, exactOptionalPropertyTypes: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false, noEmit: true, types: ['node'] }],
    ['strict, exactOptionalPropertyTypes, bundler', { strict: true, exactOptionalPropertyTypes: true, module: 'esnext', moduleResolution: 'bundler', target: 'es2022', skipLibCheck: false, noEmit: true, types: ['node'] }],
  ])("a consumer's TypeScript over every package's public API compiles: %s", (_, options) => {
    const config = join(project, 'tsconfig.json');
    rmSync(config, { force: true });
    if (options === null) {
      execFileSync(process.execPath, [TSC, '--init'], { cwd: project, stdio: 'pipe' });
    } else {
      writeFileSync(config, JSON.stringify({ compilerOptions: options, files: ['types.ts'] }));
    }
    const r = spawnSync(process.execPath, [TSC, '--noEmit', '-p', config, ...(options === null ? ['--types', 'node'] : [])], { cwd: project, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  test('@kmslab/testing under vitest (globalSetup with vitestGlobalSetup, inject, a lab per test) and under jest (jestGlobalSetup/Teardown, ESM): the lab found through KMSLAB_DNS', () => {
    const vitest = spawnSync(join(project, 'node_modules', '.bin', 'vitest'), ['run', '--config', 'fixture.vitest.config.mjs'], { cwd: project, encoding: 'utf8', timeout: 120_000, env: { ...process.env, CI: 'true' } });
    expect(vitest.status, `${vitest.stdout}${vitest.stderr}`.slice(-3000)).toBe(0);
    expect(vitest.stdout).toMatch(/2 passed/);
    const jest = spawnSync(process.execPath, ['--experimental-vm-modules', join(project, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    expect(jest.status, `${jest.stdout}${jest.stderr}`.slice(-3000)).toBe(0);
    expect(jest.stderr).toMatch(/Tests:\s+1 passed/);
  }, 240_000);

  test(`the @kmslab/testcontainers README's example as a vitest test in that project, on the real Docker engine (testcontainers ${onNode22 ? 12 : 11}): both hosts by SRV, a client container on kms1, then on kms2 with kms1 stopped`, () => {
    requireDockerAndImage();
    const installed = JSON.parse(readFileSync(join(project, 'node_modules', 'testcontainers', 'package.json'), 'utf8')).version as string;
    expect(installed.split('.')[0]).toBe(onNode22 ? '12' : '11');
    const r = spawnSync(join(project, 'node_modules', '.bin', 'vitest'), ['run', 'lab.test.ts'], { cwd: project, encoding: 'utf8', timeout: 400_000, env: { ...process.env, CI: 'true' } });
    expect(r.status, `${r.stdout}${r.stderr}`.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/1 passed/);
  }, 420_000);
});
