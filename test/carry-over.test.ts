import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { requireRedisServer, RedisServer } from '@kmslab/lab/live';
import { runCli, startCliHost, startCliProcess } from './support/cli.js';
import { TestClient, tempDir } from './support/kms-host.js';

const PRODUCT = 'windows-10-enterprise';

describe('state that carries over says so (issue 24 item 16)', () => {
  test('host start says what it restored and from where, on the memory store and on Redis; reset --redis-url forgets Redis', async () => {
    await using dir = tempDir();
    const dataDir = join(dir.path, 'host');
    {
      await using host = await startCliHost(['--data-dir', dataDir]);
      await using c = await TestClient.connect(host.port);
      for (let i = 0; i < 3; i++) await c.activate(PRODUCT);
    }
    await using again = await startCliHost(['--data-dir', dataDir]);
    expect(again.ready.restored).toEqual({ count: 3, requests: 3, from: dataDir });

    requireRedisServer();
    await using redis = await RedisServer.start();
    const redisArgs = ['--store', 'redis', '--redis-url', redis.url, '--host-id', 'carry'];
    {
      await using host = await startCliHost(redisArgs);
      expect(host.ready.restored).toEqual({ count: 0, requests: 0, from: redis.url });
      await using c = await TestClient.connect(host.port);
      await c.activate(PRODUCT);
    }
    {
      await using host = await startCliHost(redisArgs);
      expect(host.ready.restored).toEqual({ count: 1, requests: 1, from: redis.url });
    }
    const reset = await runCli(['reset', '--dir', join(dir.path, 'none'), '--redis-url', redis.url]);
    expect(reset.stdout).toMatch(new RegExp(`^nothing to reset: .*none does not exist\\nforgot 2 Redis keys at ${redis.url.replace(/[/.]/g, '\\$&')} \\(hosts carry\\)\\n$`));
    await using fresh = await startCliHost(redisArgs);
    expect(fresh.ready.restored).toMatchObject({ count: 0, requests: 0 });
  });

  test("kmslab up lists each host's restored count; its Try line's client says it carries a MAK over; client set-key prints the new state and --kms goes back", async () => {
    await using dir = tempDir();
    const up = ['up', '--listen', '127.0.0.1', '--dns-port', '0', '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', 'off'];
    {
      await using lab = await startCliProcess(up, { cwd: dir.path });
      await using c = await TestClient.connect((lab.ready.hosts as Array<{ port: number }>)[0]!.port);
      await c.activate(PRODUCT);
    }
    const mak = await runCli(['client', 'set-key', '--mak', 'KMSLAB-MAK-OFFICE-01'], { cwd: dir.path });
    expect(mak.stdout).toMatch(/^client [0-9a-f-]{36}: activates with the MAK KMSLAB-MAK-OFFICE-01 \(kmslab client set-key --kms goes back to KMS\); license initial-grace\n$/);
    await using lab = await startCliProcess(up, { cwd: dir.path });
    await expect.poll(() => lab.logs()).toMatch(/Restored  kms1: count 1, 1 requests from \.kmslab\/up\/kms1 \(an earlier run; kmslab reset forgets it\)/);
    expect(lab.logs()).toMatch(/\(that client carries over from \.kmslab\/client: client [0-9a-f-]{36}: activates with the MAK KMSLAB-MAK-OFFICE-01/);
    const kms = await runCli(['client', 'set-key', '--kms'], { cwd: dir.path });
    expect(kms.stdout).toMatch(/^client [0-9a-f-]{36}: finds KMS hosts by DNS in the search list, the last one that answered first; license initial-grace\n$/);
    const both = await runCli(['client', 'set-key', '--kms', '--mak', 'KMSLAB-MAK-X'], { cwd: dir.path });
    expect(both.stderr).toBe('kmslab: Give --mak KEY or --kms (KMSLAB_INVALID_ARGUMENT)\n');
  });
});
