import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { KMSLAB_BIN } from './support/cli.js';

/**
 * What a command loads before it runs: kmslab starts about as fast as Node
 * itself (pnpm bench:cli) only while the commands users type all day load no
 * server. A resolve hook (node:module register) names every package module
 * the process resolves.
 */
function packagesLoaded(args: readonly string[]): string[] {
  const hook = `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/node_modules/') || r.url.includes('/packages/')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, KMSLAB_BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  // Third-party packages by name, kmslab's own as @kmslab/NAME (the workspace's packages/NAME).
  const name = (l: string) => /^LOADED .*\/node_modules\/\.pnpm\/(@?[^@/]+(?:\+[^@/]+)?)@/.exec(l)?.[1] ?? /^LOADED file:.*\/packages\/([^/]+)\/dist\//.exec(l)?.[1]?.replace(/^/, '@kmslab/');
  return [...new Set(r.stderr.split('\n').flatMap((l) => name(l) ?? []))].sort();
}

describe('what the everyday commands load', () => {
  test.each([[['--help']], [['products', '--json']], [['dns', 'start', '--help']], [['host', 'start', '--help']]])('kmslab %j loads no web framework, logger or Redis client', (args) => {
    const loaded = packagesLoaded(args);
    expect(loaded.length).toBeGreaterThan(0); // the hook sees the command's own packages (commander)
    expect(loaded.filter((p) => /^(fastify|pino|ioredis|avvio|find-my-way|preact)$/.test(p))).toEqual([]);
    // Of kmslab's own packages only the model: the client, servers and lab load with the command that runs them.
    expect(loaded.filter((p) => p.startsWith('@kmslab/'))).toEqual(['@kmslab/cli', '@kmslab/core']);
  });
});
