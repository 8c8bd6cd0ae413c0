import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KmsConnection, encodeActivationRequest, encodeHelloRequest } from '@kmslab/core';
import { startCliHost } from './support/cli.js';
import { startHost, tempDir, TestClient } from './support/kms-host.js';
import { rawConnect } from './support/raw-connect.js';

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh client's hello, timed from connect to answer (ms); Infinity when it failed. */
async function probe(port: number): Promise<number> {
  const started = performance.now();
  try {
    const c = await KmsConnection.connect({ host: "127.0.0.1", port, connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
    try {
      await c.hello();
    } finally {
      c.close();
    }
    return performance.now() - started;
  } catch {
    return Infinity;
  }
}

/** Probes every `everyMs` until `done` resolves; the latencies seen. */
async function probeWhile(port: number, everyMs: number, done: Promise<unknown>): Promise<number[]> {
  const seen: number[] = [];
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    seen.push(await probe(port));
    await sleep(everyMs);
  }
  return seen;
}

const frame = () =>
  encodeActivationRequest(1, { cmid: crypto.randomUUID(), productId: 'windows-7-professional', fqdn: 'pc.lab.test', clientTime: Date.now(), kind: 'activation', licenseStatus: 'initial-grace' });

describe('hostile clients on the KMS port (docs/protocol.md "Limits")', () => {
  test('at the connection cap the idle connection used longest ago is closed to make room, and the newcomer is served', async () => {
    await using h = await startHost({ kind: 'memory' }, { maxConnections: 3 });
    const held = await Promise.all([0, 1, 2].map(() => TestClient.connect(h.port)));
    await held[1]!.activate('windows-7-professional');
    await held[2]!.activate('windows-7-professional');
    await using extra = await TestClient.connect(h.port);
    expect((await extra.activate('windows-7-professional')).count).toBe(3);
    // held[0] had done nothing: it made room; the others still work.
    await expect(held[0]!.activate('windows-7-professional')).rejects.toMatchObject({ code: 'KMSLAB_CONNECTION_FAILED' });
    expect((await held[2]!.activate('windows-7-professional')).count).toBe(4);
    expect(await (await fetch(`${h.adminUrl}/metrics`)).text()).toMatch(/^kmslab_connections_evicted_total\{host_id="test-host"\} 1$/m);
    for (const c of held) await c[Symbol.asyncDispose]();
  });

  test('a frame trickled one byte at a time is closed the idle timeout after its first byte (the clock does not restart)', async () => {
    await using h = await startHost({ kind: 'memory' }, { idleTimeoutMs: 1000 });
    const started = Date.now();
    const sockets = await Promise.all(Array.from({ length: 5 }, () => rawConnect(h.port)));
    const closedAt = sockets.map((s) => new Promise<number>((r) => s.once('close', () => r(Date.now() - started))));
    const bytes = frame();
    let i = 0;
    const trickle = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(bytes.subarray(i, i + 1));
      i++;
    }, 100);
    for (const s of sockets) s.on('error', () => {});
    const times = await Promise.all(closedAt);
    clearInterval(trickle);
    // 60 bytes at 10 B/s would take 6 s; the limit closes each about 1 s after its first byte.
    for (const t of times) expect(t).toBeLessThan(2500);
    expect(i).toBeLessThan(bytes.length);
  });

  test('10,000 half-sent connections attempted: a well-behaved client is answered within 1 s at every moment', async () => {
    await using dir = tempDir();
    await using host = await startCliHost(['--data-dir', join(dir.path, 'data')]);
    const slow: Socket[] = [];
    const attack = (async () => {
      for (let batch = 0; batch < 20; batch++) {
        const opened = await Promise.all(
          Array.from({ length: 500 }, () =>
            rawConnect(host.port).then(
              (s) => {
                s.on('error', () => {});
                s.write(frame().subarray(0, 5)); // half a frame, then nothing more
                return s;
              },
              () => null,
            ),
          ),
        );
        for (const s of opened) if (s) slow.push(s);
      }
      await sleep(2000);
    })();
    try {
      const latencies = await probeWhile(host.port, 100, attack);
      expect(slow.length).toBeGreaterThan(9000);
      expect(latencies.length).toBeGreaterThan(10);
      expect(Math.max(...latencies)).toBeLessThan(1000);
      const status = (await (await fetch(`${host.adminUrl}/status`)).json()) as { replica: { connections: number } };
      expect(status.replica.connections).toBeLessThanOrEqual(10_000);
    } finally {
      for (const s of slow) s.destroy();
    }
  });

  test('8 connections pipelining HELLOs without reading the answers: host memory stays within +100 MiB, fresh clients are answered', async () => {
    await using dir = tempDir();
    await using host = await startCliHost(['--data-dir', join(dir.path, 'data')]);
    // The baseline is a host that has answered a client (its request path loaded), not one still starting.
    expect(Number.isFinite(await probe(host.port))).toBe(true);
    const idle = rssMiB(host.proc.pid!);
    let peak = idle;
    const hellos = Buffer.concat(Array.from({ length: 5000 }, (_, i) => encodeHelloRequest(i)));
    // The socket drains, or (as the host stops reading) the time is up: either way its listener goes.
    const drainedOr = (s: Socket, ms: number) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          s.off('drain', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        s.once('drain', done);
      });
    const deadline = Date.now() + 6000;
    const greedy = await Promise.all(Array.from({ length: 8 }, () => rawConnect(host.port)));
    const flood = Promise.all(
      greedy.map(async (s) => {
        s.on('error', () => {});
        // Never reads: answers pile up unless the host stops reading. At most 1M frames or 6 s.
        for (let sent = 0; sent < 1_000_000 && Date.now() < deadline; sent += 5000) {
          if (!s.write(hellos)) await drainedOr(s, 200);
        }
      }),
    );
    const watch = setInterval(() => (peak = Math.max(peak, rssMiB(host.proc.pid!))), 100);
    try {
      const latencies = await probeWhile(host.port, 100, flood);
      expect(latencies.length).toBeGreaterThan(10);
      expect(latencies.every(Number.isFinite)).toBe(true);
      const sorted = [...latencies].sort((a, b) => a - b);
      expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(100);
      expect(peak - idle).toBeLessThan(100);
    } finally {
      clearInterval(watch);
      for (const s of greedy) s.destroy();
    }
  });
});
