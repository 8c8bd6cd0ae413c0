import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { KmsConnection } from '@kmslab/core';
import type { HostStatus } from '@kmslab/host';
import { removeReusedLab, startKmsLab } from '@kmslab/testcontainers';
import { requireDockerAndImage, sh } from './support/docker.js';

const run = promisify(execFile);

/** What "the next test file" does: the same lab, from another process, as a test file would start it. */
const NEXT_FILE = `
import { startKmsLab } from '@kmslab/testcontainers';
const started = performance.now();
const lab = await startKmsLab({ reuse: process.env.LAB, hosts: [{ name: 'kms1' }] });
const readyMs = performance.now() - started;
const status = await (await fetch(lab.hosts[0].adminUrl + '/status', { headers: lab.hosts[0].adminHeaders })).json();
console.log(JSON.stringify({ ids: [lab.dns.container.getId(), lab.hosts[0].container.getId()], readyMs, windows: status.families.windows.currentCount }));
await lab.stop();
`;

test('reuse: NAME: the next test file (another process) gets the same containers, with the counts so far, sooner; removeReusedLab removes containers, network and secret', { timeout: 300_000 }, async () => {
  requireDockerAndImage();
  const name = `t-${randomUUID().slice(0, 8)}`;
  const labelled = () => sh('docker', ['ps', '-aq', '--filter', `label=org.kmslab.reuse=${name}`]).trim();
  try {
    const started = performance.now();
    const first = await startKmsLab({ reuse: name, hosts: [{ name: 'kms1' }] });
    const firstMs = performance.now() - started;
    const conn = await KmsConnection.connect(first.hosts[0]!.kms);
    const cmid = randomUUID();
    const r = await conn.activate({ cmid, productId: 'windows-10-pro', fqdn: 'pc1.lab.test', clientTime: Date.now(), kind: 'activation', licenseStatus: 'initial-grace' });
    conn.close();
    expect(r.count).toBe(1);
    await first.stop();
    // Stopped, a reused lab keeps running for the next file.
    expect(labelled().split('\n')).toHaveLength(2);

    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', NEXT_FILE], { env: { ...process.env, LAB: name }, timeout: 120_000 });
    const next = JSON.parse(stdout) as { ids: string[]; readyMs: number; windows: number };
    expect(next.ids).toEqual([first.dns.container.getId(), first.hosts[0]!.container.getId()]);
    expect(next.windows).toBe(1);
    expect(next.readyMs).toBeLessThan(firstMs);
    const status = (await (await fetch(`${first.hosts[0]!.adminUrl}/status`, { headers: first.hosts[0]!.adminHeaders })).json()) as HostStatus;
    expect(status.families.windows!.currentCount).toBe(1);
  } finally {
    await removeReusedLab(name);
  }
  expect(labelled()).toBe('');
  expect(sh('docker', ['network', 'ls', '-q', '--filter', `name=kmslab-reuse-${name}`]).trim()).toBe('');
  expect(existsSync(join(process.env.XDG_RUNTIME_DIR || process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kmslab', `reuse-${name}.secret`))).toBe(false);
});
