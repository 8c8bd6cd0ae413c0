import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { TcpConnections, type TcpConnectionLimits } from './tcp-connections.js';

/** A real loopback server whose accepted sockets go through `table`; clients connect to it. */
async function serve(limits: TcpConnectionLimits) {
  const table = new TcpConnections(limits);
  const accepted: Socket[] = [];
  const server: Server = createServer((s) => {
    s.on('error', () => {});
    if (table.admit(s)) accepted.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const clients: Socket[] = [];
  const client = async () => {
    const c = connect(port, '127.0.0.1');
    c.on('error', () => {});
    clients.push(c);
    await new Promise((r) => c.once('connect', r));
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    return { socket: c, closed };
  };
  const settle = () => new Promise((r) => setTimeout(r, 50));
  return {
    table, accepted, client, settle,
    async [Symbol.asyncDispose]() {
      table.close();
      for (const c of clients) c.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('TcpConnections (RFC 7766 §6.2: the server manages its connections)', () => {
  test('at the cap the least recently useful idle connection makes room; with every one busy the newcomer is refused', async () => {
    await using s = await serve({ maxConnections: 2, idleTimeoutMs: 60_000, messageTimeoutMs: 60_000 });
    const a = await s.client();
    const b = await s.client();
    // a does something useful after b (eviction order is kept to about a second).
    await new Promise((r) => setTimeout(r, 1100));
    s.table.received(s.accepted[0]!, 1, false);
    const c = await s.client();
    await s.settle();
    await b.closed; // b: idle longest
    expect(s.table.evicted).toBe(1);
    // a and c both wait on answers: nothing may be closed for a newcomer.
    for (const sock of s.accepted.filter((x) => !x.destroyed)) s.table.started(sock);
    const d = await s.client();
    await d.closed;
    expect(s.table.refused).toBe(1);
    expect(a.socket.destroyed || c.socket.destroyed).toBe(false);
  });

  test('a half-sent message is closed a fixed time after its first byte, however many bytes trickle in', async () => {
    await using s = await serve({ maxConnections: 10, idleTimeoutMs: 60_000, messageTimeoutMs: 300 });
    const a = await s.client();
    await s.settle();
    const started = Date.now();
    const trickle = setInterval(() => s.table.received(s.accepted[0]!, 0, true), 50);
    await a.closed;
    clearInterval(trickle);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('reading stops while unsent answers are over the high-water mark and resumes when they drain', async () => {
    await using s = await serve({ maxConnections: 10, idleTimeoutMs: 60_000, messageTimeoutMs: 60_000, highWaterBytes: 64 * 1024 });
    const a = await s.client();
    a.socket.pause(); // a peer that does not read
    await s.settle();
    const server = s.accepted[0]!;
    for (let i = 0; i < 4096 && server.writableLength <= 64 * 1024; i++) {
      server.write(Buffer.alloc(16 * 1024));
      s.table.wrote(server);
    }
    expect(server.isPaused()).toBe(true);
    a.socket.resume();
    await new Promise((r) => server.once('drain', r));
    await s.settle();
    expect(server.isPaused()).toBe(false);
  });
});
