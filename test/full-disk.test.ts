import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KmsLabError } from '@kmslab/core';
import type { HostStatus } from '@kmslab/host';
import { startCliHost } from './support/cli.js';
import { TestClient } from './support/kms-host.js';
import { tinyDisk } from './support/tiny-disk.js';

const PRODUCT = 'windows-10-enterprise';

async function health(adminUrl: string): Promise<{ healthz: number; storeHealthy: boolean }> {
  const healthz = (await fetch(`${adminUrl}/healthz`)).status;
  const status = (await (await fetch(`${adminUrl}/status`)).json()) as HostStatus;
  return { healthz, storeHealthy: status.store.healthy };
}

describe('memory store on a full disk (a real 64 KiB tmpfs)', () => {
  test('DEVELOPERS.md "no acknowledged count is lost": a full disk refuses, counts nothing, recovers by itself, and a kill -9 after it restarts with every acknowledged client', async () => {
    await using disk = tinyDisk('64k');
    const dataDir = join(disk.path, 'data');
    // Most of the disk taken by something else, so the journal fills the rest within a few hundred requests.
    const filler = join(disk.path, 'filler');
    writeFileSync(filler, Buffer.alloc(40 * 1024, 1));
    // Disposed too if an assertion fails before the kill -9 below.
    await using host = await startCliHost(['--data-dir', dataDir]);
    const acknowledged: string[] = [];
    let refused = 0;
    {
      await using c = await TestClient.connect(host.port);
      for (let i = 0; i < 2000 && refused < 10; i++) {
        try {
          const cmid = randomUUID();
          const r = await c.activate(PRODUCT, cmid);
          // Counts only ever grow by the acknowledged: a refused request counted nothing.
          expect(r.count).toBe(Math.min(acknowledged.length + 1, 50));
          acknowledged.push(cmid);
        } catch (err) {
          expect(err).toBeInstanceOf(KmsLabError);
          expect((err as KmsLabError).code).toBe('KMSLAB_HOST_UNAVAILABLE');
          refused++;
        }
      }
      expect(refused).toBe(10);
      expect(acknowledged.length).toBeGreaterThan(20);
      expect(await health(host.adminUrl)).toEqual({ healthz: 503, storeHealthy: false });

      // Space comes back: health returns by itself, and the next client is acknowledged+1, not acknowledged+11.
      rmSync(filler);
      expect(await health(host.adminUrl)).toEqual({ healthz: 200, storeHealthy: true });
      const next = randomUUID();
      expect((await c.activate(PRODUCT, next)).count).toBe(Math.min(acknowledged.length + 1, 50));
      acknowledged.push(next);
    }
    // Every line on disk is whole: nothing torn was left behind for the next entry to be glued to.
    const journal = readFileSync(join(dataDir, 'journal.ndjson'), 'utf8');
    for (const line of journal.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();

    host.proc.kill('SIGKILL');
    await host.exited;
    await using again = await startCliHost(['--data-dir', dataDir]);
    await using c = await TestClient.connect(again.port);
    // Acknowledged clients are records: repeating them does not raise the count.
    const last50 = acknowledged.slice(-50);
    for (const cmid of last50) expect((await c.activate(PRODUCT, cmid)).count).toBe(Math.min(acknowledged.length, 50));
  });

  test('a torn last journal line is cut off with a warning at start-up; a corrupt line before it names the file and line', async () => {
    await using disk = tinyDisk('1m');
    const dataDir = join(disk.path, 'data');
    {
      await using h = await startCliHost(['--data-dir', dataDir]);
      await using c = await TestClient.connect(h.port);
      for (let i = 0; i < 3; i++) await c.activate(PRODUCT);
      h.proc.kill('SIGKILL');
      await h.exited;
    }
    const path = join(dataDir, 'journal.ndjson');
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"q":4,"t":"r","f":"wind`);
    {
      await using h = await startCliHost(['--data-dir', dataDir]);
      expect(h.logs()).toMatch(/"event":"journal-repaired".*cut off 24 bytes/);
      await using c = await TestClient.connect(h.port);
      expect((await c.activate(PRODUCT)).count).toBe(4);
      h.proc.kill('SIGKILL');
      await h.exited;
    }
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(1, 0, '{"q":2,"t":"r","f":"wi');
    writeFileSync(path, lines.join('\n'));
    await expect(startCliHost(['--data-dir', dataDir])).rejects.toThrow(/journal\.ndjson line 2 is not valid JSON/);
  });
});
