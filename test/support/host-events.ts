import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { waitFor, type KmsEvent } from '@kmslab/core';
import { runCli, startCliProcess } from './cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'kmslab-events-'));

/** A publishing host on loopback; its admin listener answers GET /events. */
export function publishingHost(dnsPort: number, key: string, fqdn: string) {
  return startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--data-dir', tmp(), '--publish', '--dns', `127.0.0.1:${dnsPort}`, '--tsig-key', key, '--fqdn', fqdn, '--advertise-address', '127.0.0.1']);
}

/** `kmslab host events --json`, as a script reads it. */
export async function events(adminUrl: string): Promise<KmsEvent[]> {
  const r = await runCli(['host', 'events', '--admin', adminUrl, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => JSON.parse(l) as KmsEvent) : [];
}

/** Resolves with the host's events once one matches. */
export function eventually(adminUrl: string, what: string, found: (e: KmsEvent) => boolean): Promise<KmsEvent[]> {
  return waitFor(async () => {
    const all = await events(adminUrl);
    return all.some(found) ? all : undefined;
  }, { timeoutMs: 15_000, everyMs: 100, timedOut: () => new Error(`no ${what} event within 15 s`) });
}

