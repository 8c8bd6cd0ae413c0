import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { requireTool } from './support/dns-tools.js';

/**
 * A KMS host's address where nothing answers at all — no RST, as on a real
 * network where the retired host's address is gone — made in a network
 * namespace of the test's own (`unshare -n`): only loopback, up, and a route
 * that sends 10.9.9.0/24 into it, where the kernel drops what is not its own.
 * nft counts the SYNs the client sends there. Nothing leaves the namespace.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRATCH = join(ROOT, 'scratch', `silent-${process.pid}`);
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

const SETUP = [
  'ip link set lo up',
  'ip route add 10.9.9.0/24 dev lo',
  'nft add table inet kmslab',
  "nft 'add chain inet kmslab out { type filter hook output priority 0; }'",
  "nft add rule inet kmslab out ip daddr 10.9.9.9 tcp flags '& (syn|ack) == syn' counter",
].join(' && ');

/** Runs `activateOnce` against the silent address in a fresh namespace; its outcome, the time it took, and the SYNs sent. */
function inSilentNetwork(profile: 'windows' | 'plain'): Promise<{ ms: number; errorCode: string; tried: Array<{ error: string }>; syns: number }> {
  mkdirSync(SCRATCH, { recursive: true });
  const script = join(SCRATCH, `${profile}.mjs`);
  writeFileSync(script, `
import { activateOnce, newClientState } from '@kmslab/client';
const state = { ...newClientState(), manualHost: '10.9.9.9:1688' };
const start = performance.now();
const o = await activateOnce({ state, productId: 'windows-11-pro', clock: { now: () => Date.now() }, domains: [], random: Math.random, profile: '${profile}', connectTimeoutMs: 500 });
console.log(JSON.stringify({ ms: performance.now() - start, errorCode: o.errorCode, tried: o.tried }));
`);
  return new Promise((resolve, reject) => {
    execFile('unshare', ['-n', 'sh', '-c', `${SETUP} && "$0" "$1" && nft list ruleset`, process.execPath, script], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const [json, ...rest] = stdout.split('\n');
      const syns = Number(/counter packets (\d+)/.exec(rest.join('\n'))?.[1] ?? NaN);
      resolve({ ...JSON.parse(json!), syns });
    });
  });
}

describe('a target where nothing answers (kms-reference.md, the captures)', () => {
  test('costs a Windows client five SYNs and about 2.1 s, where the plain profile gives up at its timeout after one', async () => {
    for (const tool of ['unshare', 'ip', 'nft']) requireTool(tool);
    const windows = await inSilentNetwork('windows');
    expect(windows.errorCode).toBe('0xC004F074');
    expect(windows.tried[0]!.error).toMatch(/^KMSLAB_TIMEOUT: .*\(5 tries over 2 s, as a Windows client makes them\)$/);
    expect(windows.ms).toBeGreaterThan(2050);
    expect(windows.ms).toBeLessThan(3000);
    // Five SYNs of its own, and the kernel's retransmissions of the earliest ones (each socket's first after 1 s).
    expect(windows.syns).toBeGreaterThanOrEqual(5);
    const plain = await inSilentNetwork('plain');
    expect(plain.errorCode).toBe('0xC004F074');
    expect(plain.ms).toBeLessThan(1000);
    expect(plain.syns).toBe(1);
  });
});
