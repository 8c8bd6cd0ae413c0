import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { KmsConnection } from '@kmslab/core';
import { redisForTest } from './support/redis-server.js';
import { runCli, startCliProcess } from './support/cli.js';
import { startHost } from './support/kms-host.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'kmslab-mak-'));

describe('MAK: small networks below the threshold (kms-reference.md "Roles")', () => {
  test('a small office switches to MAK: each distinct client uses one activation, the same client none; then the key runs out', async () => {
    await using host = await startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', 'off', '--data-dir', tmp(), '--mak-key', 'KMSLAB-MAK-OFFICE-01:2']);
    const client = async () => {
      const dir = tmp();
      await runCli(['client', 'set-host', `127.0.0.1:${host.port}`, '--state-dir', dir]);
      return async (...args: string[]) => {
        const r = await runCli(['client', ...args, '--state-dir', dir, '--json']);
        return { code: r.code, out: r.stdout ? JSON.parse(r.stdout) : null, err: r.stderr };
      };
    };
    const a = await client();
    expect((await a('activate', '--product', 'windows-10-pro')).out).toMatchObject({ licensed: false, count: 1, errorCode: '0xC004F038', activatedBy: 'kms' });
    expect((await a('set-key', '--mak', 'KMSLAB-MAK-OFFICE-01')).code).toBe(0);
    const first = await a('activate');
    expect(first.code).toBe(0);
    expect(first.out).toMatchObject({ licensed: true, activatedBy: 'mak', makRemaining: 1, errorCode: null, count: null });
    expect((await a('activate')).out).toMatchObject({ licensed: true, makRemaining: 1 });
    expect((await a('status')).out).toMatchObject({ licenseStatus: 'licensed', licensedUntil: null, makKey: 'KMSLAB-MAK-OFFICE-01' });

    const b = await client();
    await b('set-key', '--mak', 'KMSLAB-MAK-OFFICE-01');
    expect((await b('activate', '--product', 'windows-10-pro')).out).toMatchObject({ licensed: true, makRemaining: 0 });
    const c = await client();
    await c('set-key', '--mak', 'KMSLAB-MAK-OFFICE-01');
    const exhausted = await c('activate', '--product', 'windows-10-pro');
    expect(exhausted.code).toBe(2);
    expect(exhausted.out).toMatchObject({ licensed: false, errorCode: 'KMSLAB_MAK_EXHAUSTED' });
    const d = await client();
    await d('set-key', '--mak', 'KMSLAB-MAK-NOPE');
    expect((await d('activate', '--product', 'windows-10-pro')).out).toMatchObject({ licensed: false, errorCode: 'KMSLAB_MAK_INVALID' });
    expect((await d('set-key', '--mak', 'ABCDE-FGHIJ-KLMNO-PQRST-UVWXY')).err).toMatch(/not a lab MAK/);
  });

  test('the Redis store counts MAK activations the same way, shared by replicas', async () => {
    await using redis = await redisForTest();
    const hostId = `mak-${process.pid}-${Date.now()}`;
    const makKeys = [{ key: 'KMSLAB-MAK-LAB', activations: 1 }];
    await using h1 = await startHost({ kind: 'redis', url: redis.url }, { hostId, makKeys });
    await using h2 = await startHost({ kind: 'redis', url: redis.url }, { hostId, makKeys });
    const ask = async (port: number, cmid: string) => {
      const conn = await KmsConnection.connect({ host: '127.0.0.1', port });
      try {
        return await conn.activateMak({ cmid, productId: 'windows-10-pro', clientTime: Date.now(), key: 'KMSLAB-MAK-LAB' });
      } finally {
        conn.close();
      }
    };
    const one = randomUUID();
    expect(await ask(h1.port, one)).toMatchObject({ remaining: 0, hostId });
    expect(await ask(h2.port, one)).toMatchObject({ remaining: 0 });
    await expect(ask(h2.port, randomUUID())).rejects.toMatchObject({ code: 'KMSLAB_MAK_EXHAUSTED' });
  });
});
