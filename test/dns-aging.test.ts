import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { waitFor, type ZoneView } from '@kmslab/core';
import { runCli, startCliProcess } from './support/cli.js';
import { dig, run } from './support/dns-tools.js';

/**
 * Aging and scavenging through the CLI on the real clock (docs/secure-zones.md
 * "Aging and scavenging"): a record nsupdate added and nobody refreshed goes
 * stale after no-refresh + refresh; `kmslab dns scavenge --dry-run` lists it,
 * `kmslab dns scavenge` removes it, dig no longer sees it. Intervals of a
 * second, so the test waits on the dry run listing it, not on a clock.
 */
describe('kmslab dns start --aging, kmslab dns scavenge', () => {
  test('a dynamic record not refreshed goes stale; the dry run lists it, the pass removes it; /zones shows when each record was refreshed', async () => {
    const s = randomBytes(32).toString('base64');
    await using dns = await startCliProcess([
      'dns', 'start', '--listen', '127.0.0.1', '--port', '0', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-aging-')), '--admin', '127.0.0.1:0',
      '--tsig-key', `kms1:hmac-sha256:${s}`, '--aging', 'lab.test=1s/1s', '--scavenge-period', '1h',
    ]);
    const before = Date.now();
    const added = await run('nsupdate', ['-y', `hmac-sha256:kms1:${s}`], `server 127.0.0.1 ${dns.port}\nupdate add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 old.lab.test.\nsend\n`);
    expect(added.code, added.stderr).toBe(0);
    const zones = (await (await fetch(`${dns.adminUrl}/zones`)).json()) as ZoneView[];
    expect(zones[0]).toMatchObject({ origin: 'lab.test', aging: { noRefreshMs: 1000, refreshMs: 1000 }, srv: [{ target: 'old.lab.test', refreshedAt: expect.any(String), owner: null }] });
    expect(Date.parse(zones[0]!.srv[0]!.refreshedAt!)).toBeGreaterThanOrEqual(before - 5);
    const fresh = await runCli(['dns', 'scavenge', '--admin', dns.adminUrl, '--dry-run']);
    expect(fresh.stdout).toBe('no stale records: the pass would remove nothing\n');

    const dry = await waitFor(async () => {
      const r = await runCli(['dns', 'scavenge', '--admin', dns.adminUrl, '--dry-run']);
      return r.stdout.startsWith('1 stale record would remove') ? r.stdout : undefined;
    }, { timeoutMs: 15_000, everyMs: 200, timedOut: () => new Error('the record never went stale') });
    expect(dry).toMatch(/^_vlmcs\._tcp\.lab\.test\. +600 +SRV +0 0 1688 old\.lab\.test\. +\d{4}-/m);
    expect((await dig('dig', '127.0.0.1', dns.port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer).toHaveLength(1);
    const pass = await runCli(['dns', 'scavenge', '--admin', dns.adminUrl, '--json']);
    expect(JSON.parse(pass.stdout)).toMatchObject({ dryRun: false, removed: [{ zone: 'lab.test', name: '_vlmcs._tcp.lab.test', type: 'SRV', data: '0 0 1688 old.lab.test.' }] });
    expect((await dig('dig', '127.0.0.1', dns.port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer).toEqual([]);
  });

  test('bad --aging, --scavenge-period and config are one line before anything listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-aging-'));
    const wrong = await runCli(['dns', 'start', '--port', '0', '--aging', 'lab.test=7d', '--data-dir', join(dir, 'a')]);
    expect(wrong.stderr).toMatch(/^kmslab: --aging "lab\.test=7d": must be ZONE=NOREFRESH\/REFRESH .*\(KMSLAB_INVALID_ARGUMENT\)\n$/);
    const other = await runCli(['dns', 'start', '--port', '0', '--aging', 'corp.test=7d/7d', '--data-dir', join(dir, 'b')]);
    expect(other.stderr).toMatch(/^kmslab: --aging corp\.test: this server does not serve that zone/);
    const period = await runCli(['dns', 'start', '--port', '0', '--aging', 'lab.test=7d/7d', '--scavenge-period', 'soon', '--data-dir', join(dir, 'c')]);
    expect(period.stderr).toMatch(/^kmslab: --scavenge-period "soon": must be a duration/);
  });
});
