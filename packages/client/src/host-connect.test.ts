import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { WINDOWS_SYN_TIMES_MS, connectOnce, windowsConnector } from './host-connect.js';

// Loopback only: a port nothing listens on is refused at once, as a retired host's address is on a LAN that answers with RST.
const timeouts = { connectTimeoutMs: 1000, requestTimeoutMs: 1000 };
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

describe("a Windows client's connection to a host (kms-reference.md, the captures: SYN at 0, 0.5, 1.0, 1.5, 2.0 s)", () => {
  test('a refused port costs five SYNs over 2 s, where one try fails at once', async () => {
    const port = await freePort();
    const once = performance.now();
    await expect(connectOnce('127.0.0.1', port, timeouts)).rejects.toMatchObject({ code: 'KMSLAB_CONNECTION_FAILED' });
    expect(performance.now() - once).toBeLessThan(500);
    const start = performance.now();
    const err = await windowsConnector()('127.0.0.1', port, timeouts).catch((e: unknown) => e);
    const took = performance.now() - start;
    expect(err).toMatchObject({ code: 'KMSLAB_CONNECTION_FAILED', message: expect.stringContaining('5 tries over 2 s') });
    expect(took).toBeGreaterThanOrEqual(1950);
    expect(took).toBeLessThan(3000);
  });

  test("on the lab's clock the waits between refused SYNs are the measured ones, and no real time passes", async () => {
    const port = await freePort();
    const waits: number[] = [];
    const start = performance.now();
    await expect(windowsConnector(async (ms) => void waits.push(ms))('127.0.0.1', port, timeouts)).rejects.toMatchObject({ code: 'KMSLAB_CONNECTION_FAILED' });
    expect(performance.now() - start).toBeLessThan(1000);
    expect(waits).toHaveLength(WINDOWS_SYN_TIMES_MS.length - 1);
    for (const w of waits) expect(w).toBeGreaterThan(450);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(1900);
  });

  test('a host that comes up between SYNs is reached at the next SYN, not given up on', async () => {
    const port = await freePort();
    const server = createServer((socket) => socket.end());
    servers.push(server);
    let up = 0;
    // The host starts listening after the second SYN was refused (at ~0.7 s); the third SYN (1.0 s) reaches it.
    const waits: number[] = [];
    const connector = windowsConnector(async (ms) => {
      waits.push(ms);
      if (waits.length === 2) await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r(void (up = performance.now()))));
    });
    const start = performance.now();
    const conn = await connector('127.0.0.1', port, timeouts);
    conn.close();
    expect(up).toBeGreaterThan(start);
    expect(waits).toHaveLength(2);
  });
});
